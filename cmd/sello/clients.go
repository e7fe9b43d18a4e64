package main

import (
	"context"
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

	"sello/internal/auth"
)

const clientsUsage = `Usage: sello clients <command> [flags]

Commands:
  create --account ACCOUNT --project PROJECT [--project PROJECT...] [--name NAME]
                          create a client and print its id and secret (shown once)
  list                    list the clients
  disable ID              stop the client from getting tokens; its tokens stop working
  enable ID               allow a disabled client again
  rotate-secret ID        give the client a new secret (printed once); the old one stops working

Every command takes --data-dir (env SELLO_DATA_DIR, default ./sello-data) and
--json for machine-readable output.
`

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// clientJSON is a client as the --json output shows it.
type clientJSON struct {
	ClientID  string    `json:"client_id"`
	Account   string    `json:"account"`
	Projects  []string  `json:"projects"`
	Name      string    `json:"name"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toClientJSON(c *auth.Client) clientJSON {
	return clientJSON{ClientID: c.ID, Account: c.Account, Projects: c.Projects, Name: c.Name,
		Disabled: c.Disabled, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// secretJSON is the --json output of create and rotate-secret.
type secretJSON struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

func runClients(args []string, stdout, stderr io.Writer) int {
	sub, args, code, ok := subcommand(args, clientsUsage, stderr)
	if !ok {
		return code
	}
	fs := flag.NewFlagSet("sello clients "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataDirFlag(fs)
	asJSON := fs.Bool("json", false, "print machine-readable JSON")
	var (
		account  *string
		name     *string
		projects stringList
		nargs    int
	)
	switch sub {
	case "create":
		account = fs.String("account", "", "account the client belongs to (its x-account-id)")
		name = fs.String("name", "", "free-text name for operators")
		fs.Var(&projects, "project", "project the client may act for (its x-project-id); repeat for several")
	case "list":
	case "disable", "enable", "rotate-secret":
		nargs = 1
	default:
		fmt.Fprintf(stderr, "sello clients: unknown command %q\n\n%s", sub, clientsUsage)
		return 2
	}
	pos, code, ok := parseOperands(fs, args, nargs, "client id", stderr)
	if !ok {
		return code
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	db, err := openStore(ctx, "", *dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "sello clients %s: %v\n", sub, err)
		return 1
	}
	defer db.Close()
	admin, err := auth.NewAdmin(auth.AdminOptions{Clients: db})
	if err != nil {
		fmt.Fprintf(stderr, "sello clients %s: %v\n", sub, err)
		return 1
	}
	out := &clientsOutput{stdout: stdout, json: *asJSON}

	switch sub {
	case "create":
		var (
			c      *auth.Client
			secret string
		)
		c, secret, err = admin.CreateClient(ctx, auth.NewClient{Account: *account, Projects: projects, Name: *name})
		if errors.Is(err, auth.ErrInvalidClient) {
			fmt.Fprintf(stderr, "sello clients create: %v\n", strings.TrimPrefix(err.Error(), "auth: "))
			return 2
		}
		if err != nil {
			break
		}
		err = out.secret(c, secret, "Created client")
	case "list":
		var cs []*auth.Client
		if cs, err = admin.ListClients(ctx); err == nil {
			err = out.list(cs)
		}
	case "disable", "enable":
		var c *auth.Client
		if c, err = admin.SetDisabled(ctx, pos[0], sub == "disable"); err == nil {
			err = out.client(c)
		}
	case "rotate-secret":
		var (
			c      *auth.Client
			secret string
		)
		if c, secret, err = admin.RotateSecret(ctx, pos[0]); err == nil {
			err = out.secret(c, secret, "New secret for client")
		}
	}
	if errors.Is(err, auth.ErrNotFound) && len(pos) == 1 {
		fmt.Fprintf(stderr, "sello clients %s: no client with id %q\n", sub, pos[0])
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "sello clients %s: %v\n", sub, err)
		return 1
	}
	return 0
}

// clientsOutput prints results as text or JSON.
type clientsOutput struct {
	stdout io.Writer
	json   bool
}

func (o *clientsOutput) encode(v any) error {
	enc := json.NewEncoder(o.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (o *clientsOutput) secret(c *auth.Client, secret, what string) error {
	if o.json {
		return o.encode(secretJSON{ClientID: c.ID, ClientSecret: secret})
	}
	_, err := fmt.Fprintf(o.stdout, "%s for account %s, projects %s.\n\nclient_id:     %s\nclient_secret: %s\n\n"+
		"Store the secret now: it is not kept and cannot be shown again.\n",
		what, c.Account, strings.Join(c.Projects, ", "), c.ID, secret)
	return err
}

func (o *clientsOutput) client(c *auth.Client) error {
	if o.json {
		return o.encode(toClientJSON(c))
	}
	_, err := fmt.Fprintf(o.stdout, "Client %s is now %s.\n", c.ID, status(c))
	return err
}

func (o *clientsOutput) list(cs []*auth.Client) error {
	if o.json {
		out := make([]clientJSON, 0, len(cs))
		for _, c := range cs {
			out = append(out, toClientJSON(c))
		}
		return o.encode(out)
	}
	tw := tabwriter.NewWriter(o.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT ID\tACCOUNT\tPROJECTS\tSTATUS\tCREATED\tNAME")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Account, strings.Join(c.Projects, ","),
			status(c), c.CreatedAt.Format(time.RFC3339), c.Name)
	}
	return tw.Flush()
}

func status(c *auth.Client) string {
	if c.Disabled {
		return "disabled"
	}
	return "enabled"
}
