package pdf

// Object is a PDF object (ISO 32000-2 §7.3): one of Bool, Integer, Real,
// String, HexString, Name, Array, Dict, *Stream, Ref, or nil for null.
type Object any

// Bool is a PDF boolean object.
type Bool bool

// Integer is a PDF integer object.
type Integer int64

// Real is a PDF real number.
type Real float64

// String is a PDF string, written as a literal string "(...)".
type String []byte

// HexString is a PDF string written in hexadecimal form "<...>".
type HexString []byte

// Name is a PDF name without its leading slash, after #xx escapes are
// decoded.
type Name string

// Array is a PDF array.
type Array []Object

// Dict is a PDF dictionary. A nil value is the same as an absent key
// (ISO 32000-2 §7.3.7).
type Dict map[Name]Object

// Ref is an indirect reference "Num Gen R".
type Ref struct {
	Num uint32
	Gen uint16
}

// Stream is a PDF stream object. Streams built in memory carry their encoded
// bytes in Raw; streams read from a file record where their bytes sit and are
// decoded through the Reader.
type Stream struct {
	Dict Dict
	// Raw holds the encoded bytes (as between "stream" and "endstream") of a
	// stream made in memory. The writer sets /Length from len(Raw).
	Raw []byte

	offset int64 // file offset of the first data byte, for streams read from a file
	length int64 // encoded length, for streams read from a file
	ref    Ref   // the indirect object holding the stream, for decryption
	plain  bool  // never encrypted (cross-reference streams)
}
