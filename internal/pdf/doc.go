// Package pdf reads and incrementally updates PDF documents, as far as
// signing needs (ISO 32000-2).
//
// # Reading
//
// [Open] reads the header, the startxref offset at the end of the file and
// every cross-reference section through /Prev: classic tables, streams
// (§7.5.8), hybrid files and linearized files. Objects are read on demand
// through [Reader.Get] and cached; stream data is decoded by
// [Reader.StreamData]. [Reader.Page] walks only the path to one page of the
// page tree, resolving inherited attributes. The whole file is never read
// into memory: the Reader makes small reads through an io.ReaderAt.
//
// # Damaged and hostile input
//
// Every loop, recursion and decompression is bounded by [Options]; hostile
// input gives an error wrapping [ErrLimit], [ErrDamaged], [ErrTruncated] or
// a [*SyntaxError], never a hang or a panic. A startxref or /Prev may point
// at white space before its section. When startxref is wrong but the
// newest cross-reference section can be found unambiguously (the last
// section in the file, a table whose entries point at matching object
// headers), Open succeeds, [Reader.Repaired] reports it and
// [Reader.StartXRef] gives the real section. A startxref that misses a
// cross-reference stream is refused: readers rebuild damaged files from
// their trailer dictionaries, so none could open that original to check
// the repair. With [Options].FullScanRepair, cross-reference data that
// cannot be read at all is rebuilt from the object headers, and
// [Reader.RepairedFullScan] reports it. A file without startxref and
// %%EOF at its end is truncated and never repaired; bytes before the
// header give [ErrJunkBeforeHeader].
//
// # Encryption
//
// Documents encrypted with the standard security handler (§7.6.4) are
// described by [Reader.Security]. When the empty user password opens them,
// strings and streams are decrypted transparently, and [Security] encrypts
// what an incremental update adds.
//
// # Concurrency
//
// A [Reader] is for one goroutine at a time; the objects it returns are
// shared with its cache and must not be modified.
package pdf
