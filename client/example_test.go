package client_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"sello/client"
)

func Example() {
	// A stand-in for the service that speaks its wire format; in a real
	// program the base URL is the service's, such as
	// "https://sello.example.com".
	fake := startFakeService()
	defer fake.srv.Close()
	baseURL, clientID, clientSecret := fake.srv.URL, "client-1", "s3cret"

	c := client.New(baseURL, clientID, clientSecret)
	// The PDF would normally come from a file: os.Open("contract.pdf").
	pdf := strings.NewReader("%PDF-1.7 ... %%EOF\n")
	resp, err := c.SignDocuments(context.Background(), client.SignRequest{
		Account:    "your_account_id",
		Project:    "your_project_id",
		ClientInfo: "transactionNumber",
		Page:       0,
		Rect:       &client.Rect{X1: 300, Y1: 300, X2: 500, Y2: 150},
		Documents: []client.Document{
			{ReferenceNumber: "ref123", Name: "contract.pdf", Body: pdf},
			{ReferenceNumber: "ref456", Name: "photo.pdf", Body: strings.NewReader("GIF89a")},
		},
	})
	if err != nil {
		// A request refused as a whole is a *client.APIError with the
		// service's status and error text.
		log.Fatal(err)
	}
	for _, d := range resp.SignedDocuments {
		if d.Status != client.StatusSuccess {
			fmt.Printf("%s: %s (%s)\n", d.ReferenceNumber, d.Status, d.ErrorReason)
			continue
		}
		// Here the program would keep d.SignedDocument, e.g. with
		// os.WriteFile(d.ReferenceNumber+".pdf", d.SignedDocument, 0o644).
		fmt.Printf("%s: %s, document %s, %d bytes\n", d.ReferenceNumber, d.Status, d.DocumentID, len(d.SignedDocument))
	}
	// Output:
	// ref123: SUCCESS, document doc-001, 26 bytes
	// ref456: FAIL (The document is not a PDF file.)
}
