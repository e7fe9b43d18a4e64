// Package appearance draws the visible part of a signature: the Form XObject
// that a signature widget shows as its normal appearance (ISO 32000-2
// §12.5.5, §12.7.5.5).
//
// # Content
//
// [Build] draws a thin border and the lines "Digitally signed by <name>",
// the signer's identification, "Date: <date time zone>" and the optional
// "Reason: ..." and "Location: ..." lines, at the largest font size that
// keeps every line inside the box, wrapping long lines at spaces when that
// gives larger text. Nothing is ever drawn outside the box; a box too small
// for legible text still gets a valid appearance with its border.
//
// # Rotated pages
//
// [Options] gives the box as the reader sees it. On a page with /Rotate the
// form's /Matrix turns the drawing against the page rotation, so that a
// widget whose /Rect is the same box in the page's user space shows the text
// upright.
//
// # Fonts
//
// Text whose every character is in WinAnsiEncoding (ISO 32000-2 Annex D),
// which covers Spanish, Portuguese, French and German, uses the standard
// Helvetica font, measured with its published metrics, and embeds nothing.
// Other Latin text (Polish, Czech, Hungarian, ...) uses a subset of the Go
// Regular TrueType font holding only the glyphs shown, as a Type0 font with
// a /ToUnicode CMap so that the text can be extracted and searched. The font
// is parsed once per process; a [Builder] also keeps its compressors between
// calls, for servers that sign many documents.
package appearance
