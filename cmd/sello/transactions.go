package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"sello/internal/identity"
)

const transactionsUsage = `Usage: sello transactions <command> [flags]

Commands:
  create --account ACCOUNT --name NAME --id-type TYPE --id-number NUMBER
         [--number NUMBER] [--email EMAIL] [--status approved|rejected|pending]
         [--expires-in 24h]
                          record an identity validation for the embedded provider;
                          without --number a random one is made; --expires-in 0
                          never expires
  list [--account ACCOUNT]
                          list the transactions, newest first
  show NUMBER             show one transaction
  revoke NUMBER           revoke a transaction: it can no longer sign

Every command takes --data-dir (env SELLO_DATA_DIR, default ./sello-data) and
--json for machine-readable output. A request's clientInfo names a transaction
by its number; see docs/identity.md.
`

// transactionJSON is a transaction as the --json output shows it.
type transactionJSON struct {
	Number     string     `json:"number"`
	Account    string     `json:"account"`
	Name       string     `json:"name"`
	IDType     string     `json:"id_type"`
	IDNumber   string     `json:"id_number"`
	Email      string     `json:"email"`
	Status     string     `json:"status"`
	State      string     `json:"state"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	ConsumedAt *time.Time `json:"consumed_at"`
}

func toTransactionJSON(t *identity.Transaction, now time.Time) transactionJSON {
	j := transactionJSON{Number: t.Number, Account: t.Account, Name: t.Name, IDType: t.IDType,
		IDNumber: t.IDNumber, Email: t.Email, Status: string(t.Status), State: state(t, now),
		CreatedAt: t.CreatedAt, RevokedAt: t.RevokedAt, ConsumedAt: t.ConsumedAt}
	if !t.ExpiresAt.IsZero() {
		e := t.ExpiresAt
		j.ExpiresAt = &e
	}
	return j
}

// state says whether the transaction can sign now, or why not. Whether a
// consumed transaction can sign depends on the single-use setting of the
// server, so "consumed" is shown as it is.
func state(t *identity.Transaction, now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked"
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return "expired"
	case t.ConsumedAt != nil:
		return "consumed"
	case t.Status != identity.StatusApproved:
		return string(t.Status)
	}
	return "usable"
}

func runTransactions(args []string, stdout, stderr io.Writer) int {
	sub, args, code, ok := subcommand(args, transactionsUsage, stderr)
	if !ok {
		return code
	}
	fs := flag.NewFlagSet("sello transactions "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataDirFlag(fs)
	asJSON := fs.Bool("json", false, "print machine-readable JSON")
	var (
		account                              *string
		number, name, idType, idNumber, mail *string
		status                               *string
		expiresIn                            *time.Duration
		nargs                                int
	)
	switch sub {
	case "create":
		account = fs.String("account", "", "account whose requests may use the transaction (their x-account-id)")
		number = fs.String("number", "", "transaction number, as clients send it in clientInfo (default: random)")
		name = fs.String("name", "", "full name of the validated person")
		idType = fs.String("id-type", "", "identification type, e.g. CC")
		idNumber = fs.String("id-number", "", "identification number")
		mail = fs.String("email", "", "e-mail address of the person")
		status = fs.String("status", string(identity.StatusApproved), "validation outcome: approved, rejected or pending")
		expiresIn = fs.Duration("expires-in", 24*time.Hour, "validity from now; 0 never expires")
	case "list":
		account = fs.String("account", "", "list only this account's transactions")
	case "show", "revoke":
		nargs = 1
	default:
		fmt.Fprintf(stderr, "sello transactions: unknown command %q\n\n%s", sub, transactionsUsage)
		return 2
	}
	pos, code, ok := parseOperands(fs, args, nargs, "transaction number", stderr)
	if !ok {
		return code
	}
	if expiresIn != nil && *expiresIn < 0 {
		fmt.Fprintf(stderr, "sello transactions create: --expires-in %s is negative\n", *expiresIn)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	db, err := openStore(ctx, "", *dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "sello transactions %s: %v\n", sub, err)
		return 1
	}
	defer db.Close()
	now := time.Now().UTC()
	out := &transactionsOutput{stdout: stdout, json: *asJSON, now: now}

	var t *identity.Transaction
	switch sub {
	case "create":
		t = &identity.Transaction{
			Number: *number, Account: strings.TrimSpace(*account), Name: strings.TrimSpace(*name),
			IDType: strings.TrimSpace(*idType), IDNumber: strings.TrimSpace(*idNumber), Email: strings.TrimSpace(*mail),
			Status: identity.Status(*status), CreatedAt: now,
		}
		if *expiresIn > 0 {
			t.ExpiresAt = now.Add(*expiresIn)
		}
		if t.Number == "" {
			if t.Number, err = randomNumber(); err != nil {
				break
			}
		}
		err = db.CreateTransaction(ctx, t)
		if errors.Is(err, identity.ErrInvalid) {
			fmt.Fprintf(stderr, "sello transactions create: %v\n", strings.TrimPrefix(err.Error(), "identity: "))
			return 2
		}
		if errors.Is(err, identity.ErrConflict) {
			fmt.Fprintf(stderr, "sello transactions create: a transaction with number %q exists\n", t.Number)
			return 1
		}
		if err == nil {
			err = out.created(t)
		}
	case "list":
		var ts []identity.Transaction
		if ts, err = db.ListTransactions(ctx, strings.TrimSpace(*account)); err == nil {
			err = out.list(ts)
		}
	case "show":
		if t, err = db.Transaction(ctx, "", pos[0]); err == nil {
			err = out.show(t)
		}
	case "revoke":
		if err = db.RevokeTransaction(ctx, pos[0], now); err == nil {
			if t, err = db.Transaction(ctx, "", pos[0]); err == nil {
				err = out.revoked(t)
			}
		}
	}
	if errors.Is(err, identity.ErrNotFound) && len(pos) == 1 {
		fmt.Fprintf(stderr, "sello transactions %s: no transaction with number %q\n", sub, pos[0])
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "sello transactions %s: %v\n", sub, err)
		return 1
	}
	return 0
}

// randomNumber returns 12 random hexadecimal digits.
func randomNumber() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a transaction number: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// transactionsOutput prints results as text or JSON.
type transactionsOutput struct {
	stdout io.Writer
	json   bool
	now    time.Time
}

func (o *transactionsOutput) encode(v any) error {
	enc := json.NewEncoder(o.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (o *transactionsOutput) created(t *identity.Transaction) error {
	if o.json {
		return o.encode(toTransactionJSON(t, o.now))
	}
	_, err := fmt.Fprintf(o.stdout, "Created transaction %s for account %s (%s, expires %s).\n",
		t.Number, t.Account, t.Status, expiry(t))
	return err
}

func (o *transactionsOutput) revoked(t *identity.Transaction) error {
	if o.json {
		return o.encode(toTransactionJSON(t, o.now))
	}
	_, err := fmt.Fprintf(o.stdout, "Transaction %s is revoked since %s.\n", t.Number, t.RevokedAt.Format(time.RFC3339))
	return err
}

func (o *transactionsOutput) show(t *identity.Transaction) error {
	if o.json {
		return o.encode(toTransactionJSON(t, o.now))
	}
	tw := tabwriter.NewWriter(o.stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("Number", t.Number)
	row("Account", t.Account)
	row("Name", t.Name)
	row("Identification", identification(t))
	if t.Email != "" {
		row("Email", t.Email)
	}
	row("Status", string(t.Status))
	row("State", state(t, o.now))
	row("Created", t.CreatedAt.Format(time.RFC3339))
	row("Expires", expiry(t))
	if t.RevokedAt != nil {
		row("Revoked", t.RevokedAt.Format(time.RFC3339))
	}
	if t.ConsumedAt != nil {
		row("Consumed", t.ConsumedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func (o *transactionsOutput) list(ts []identity.Transaction) error {
	if o.json {
		out := make([]transactionJSON, 0, len(ts))
		for i := range ts {
			out = append(out, toTransactionJSON(&ts[i], o.now))
		}
		return o.encode(out)
	}
	tw := tabwriter.NewWriter(o.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NUMBER\tACCOUNT\tSTATE\tIDENTIFICATION\tCREATED\tEXPIRES\tNAME")
	for i := range ts {
		t := &ts[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Number, t.Account, state(t, o.now),
			identification(t), t.CreatedAt.Format(time.RFC3339), expiry(t), t.Name)
	}
	return tw.Flush()
}

func identification(t *identity.Transaction) string {
	return strings.TrimSpace(t.IDType + " " + t.IDNumber)
}

func expiry(t *identity.Transaction) string {
	if t.ExpiresAt.IsZero() {
		return "never"
	}
	return t.ExpiresAt.Format(time.RFC3339)
}
