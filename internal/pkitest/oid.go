package pkitest

import (
	"crypto/x509/pkix"
	"encoding/asn1"
)

var (
	// oidDocumentSigning is id-kp-documentSigning (RFC 9336).
	oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}
	oidExtKeyUsage     = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidTimeStamping    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
)

// timeStampingEKU returns a critical extended key usage extension holding
// only id-kp-timeStamping.
func timeStampingEKU() pkix.Extension {
	v, err := asn1.Marshal([]asn1.ObjectIdentifier{oidTimeStamping})
	if err != nil {
		panic(err) // a constant value always encodes
	}
	return pkix.Extension{Id: oidExtKeyUsage, Critical: true, Value: v}
}
