package appearance

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Layout limits, in points unless named otherwise.
const (
	maxFontSize   = 14   // text never grows past this, however large the box
	minFontSize   = 0.5  // below this no text is drawn, only the border
	readableSize  = 6    // below this, words may be broken to get larger text
	leading       = 1.2  // baseline distance as a multiple of the font size
	wrapGain      = 1.2  // wrap lines only if that makes the text this much larger
	maxFieldRunes = 200  // longer names, reasons and locations are cut with "…"
	maxFieldBytes = 4096 // input read per field, enough for maxFieldRunes
)

// clean prepares a field for display: composed to NFC (so a decomposed "é"
// has a single code), with controls and runs of white space turned into one
// space, format characters dropped, trimmed, and cut to maxFieldRunes.
func clean(s string) string {
	// Only the start of a long field can be shown; cut it (at a character
	// boundary) before normalizing, so the work stays bounded.
	if len(s) > maxFieldBytes {
		cut := maxFieldBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	n := 0
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = n > 0
			continue
		case unicode.Is(unicode.Cf, r):
			continue
		}
		if n == maxFieldRunes {
			b.WriteRune('…')
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// layout is the arrangement of the text in the box.
type layout struct {
	border float64  // line width of the border
	pad    float64  // distance from the box's edge that the text keeps
	size   float64  // font size; 0 when the box is too small for text
	x, y   float64  // start of the first baseline
	lines  [][]rune // the lines as drawn, after wrapping
}

// fieldSeparator joins the stamp's fields when they share lines.
const fieldSeparator = " · "

// joinGain is how much larger the text must get before the fields share
// lines instead of taking one line each.
const joinGain = 1.25

// fitStamp lays out the stamp's fields one per line, as a reader expects
// them; but in a box much wider than tall, where that would leave the
// text tiny with most of the width empty, it runs them together,
// separated by fieldSeparator and wrapped, when that makes the text at
// least joinGain times larger.
// It returns the face the chosen layout needs; text is the font for what
// Helvetica cannot show (Go Regular when nil).
func fitStamp(text *trueType, fields []string, w, h float64) (face, layout, error) {
	f, shown, err := chooseFace(text, fields)
	if err != nil {
		return nil, layout{}, err
	}
	l := fit(f, shown, w, h)
	if len(fields) < 2 || l.size >= maxFontSize {
		return f, l, nil
	}
	// The face for the joined text must also have the separator.
	fj, shown, err := chooseFace(text, append(fields[:len(fields):len(fields)], fieldSeparator))
	if err != nil {
		return nil, layout{}, err
	}
	joined := fit(fj, []string{strings.Join(shown[:len(fields)], fieldSeparator)}, w, h)
	if joined.size >= l.size*joinGain {
		return fj, joined, nil
	}
	return f, l, nil
}

// fit chooses the font size and line breaks for lines in a w by h box: the
// largest size up to maxFontSize at which every line fits the width and all
// lines fit the height: without breaking any line, or wrapping at spaces
// when that makes the text wrapGain times larger or the unbroken text would
// be below readableSize, and only when the text is still below
// readableSize, breaking inside words too. The result never extends past the inner edge of the
// border.
func fit(f face, lines []string, w, h float64) layout {
	side := min(w, h)
	l := layout{border: round(min(1, side/20))}
	l.pad = l.border + min(3, side/20)
	pad := l.pad
	availW, availH := w-2*pad, h-2*pad
	if availW <= 0 || availH <= 0 {
		return l
	}
	asc, desc := f.extent()
	height := func(n int, size float64) float64 {
		return size*(asc-desc)/1000 + float64(n-1)*leading*size
	}

	src := make([][]rune, len(lines))
	widest := 0.0
	for i, s := range lines {
		src[i] = []rune(s)
		widest = max(widest, textWidth(f, src[i]))
	}
	// The unbroken lines fit at this size; the factor keeps rounding errors
	// on the safe side.
	size := availH / height(len(src), 1)
	if widest > 0 {
		size = min(size, availW*1000/widest)
	}
	size = min(maxFontSize, size*(1-1e-9))
	chosen := src

	// fits wraps the lines for a font size and reports whether they fit.
	fits := func(size float64, breakWords bool) ([][]rune, bool) {
		var out [][]rune
		for _, line := range src {
			pieces, ok := wrap(f, line, availW*1000/size, breakWords)
			if !ok {
				return nil, false
			}
			out = append(out, pieces...)
		}
		return out, height(len(out), size) <= availH
	}
	// grow finds, by bisection, the largest size in [size, maxFontSize] that
	// fits; a smaller size never needs more lines, so fitting is monotonic.
	grow := func(size float64, breakWords bool) float64 {
		if _, ok := fits(maxFontSize, breakWords); ok {
			return maxFontSize
		}
		lo, hi := size, float64(maxFontSize)
		for range 24 {
			mid := (lo + hi) / 2
			if _, ok := fits(mid, breakWords); ok {
				lo = mid
			} else {
				hi = mid
			}
		}
		return lo
	}
	breakWords := false
	if size < maxFontSize {
		// Wrapping is worth its extra lines only when the text gets
		// noticeably larger, or was too small to read.
		if s := grow(size, false); s > size*wrapGain || size < readableSize {
			size = s
		}
		if size < readableSize {
			if s := grow(size, true); s > size {
				size, breakWords = s, true
			}
		}
		size = math.Floor(size*100) / 100
		if wrapped, ok := fits(size, breakWords); ok {
			chosen = wrapped
		}
	}
	if size < minFontSize || height(len(chosen), size) > availH {
		return l
	}

	l.size = size
	l.lines = chosen
	l.x = round(pad)
	top := h - pad - (availH-height(len(chosen), size))/2
	l.y = round(top - size*asc/1000)
	return l
}

// wrap breaks line into pieces no wider than limit (in thousandths of the
// font size), at spaces, or anywhere when breakWords is set. It reports
// false when some word, or with breakWords some character, is wider than
// limit.
func wrap(f face, line []rune, limit float64, breakWords bool) ([][]rune, bool) {
	var out [][]rune
	start := 0
	for start < len(line) {
		w := 0.0
		lastSpace := -1
		j := start
		for ; j < len(line); j++ {
			cw := f.width(line[j])
			if line[j] == ' ' {
				lastSpace = j
			} else if w+cw > limit {
				break
			}
			w += cw
		}
		switch {
		case j == len(line):
			out = append(out, line[start:])
			return out, true
		case lastSpace > start:
			out = append(out, line[start:lastSpace])
			start = lastSpace + 1
		case breakWords && j > start:
			out = append(out, line[start:j])
			start = j
		default:
			return nil, false
		}
	}
	return out, true
}

// textWidth returns the advance of s in thousandths of the font size.
func textWidth(f face, s []rune) float64 {
	w := 0.0
	for _, r := range s {
		w += f.width(r)
	}
	return w
}

// content returns the content stream that draws the border and the text of
// l in a w by h box (ISO 32000-2 §8.5 and §9.4).
func (l *layout) content(f face, w, h float64) []byte {
	b := make([]byte, 0, 512)
	b = append(b, "q\n"...)
	half := l.border / 2
	b = appendOp(b, "w", l.border)
	b = append(b, "0 G\n"...)
	b = appendOp(b, "re", half, half, w-l.border, h-l.border)
	b = append(b, "S\n"...)
	if l.size > 0 {
		b = append(b, "BT\n0 g\n/"...)
		b = append(b, fontName...)
		b = append(b, ' ')
		b = appendOp(b, "Tf", l.size)
		b = appendOp(b, "TL", l.size*leading)
		b = appendOp(b, "Td", l.x, l.y)
		for i, line := range l.lines {
			if i > 0 {
				b = append(b, "T*\n"...)
			}
			b = f.show(b, line)
			b = append(b, " Tj\n"...)
		}
		b = append(b, "ET\n"...)
	}
	b = append(b, "Q\n"...)
	return b
}

// appendOp appends the operands and the operator op, then a newline.
func appendOp(b []byte, op string, operands ...float64) []byte {
	for _, v := range operands {
		b = appendNumber(b, v)
		b = append(b, ' ')
	}
	b = append(b, op...)
	return append(b, '\n')
}

// appendNumber appends v in PDF number syntax (ISO 32000-2 §7.3.3): no
// exponent, at most three decimals.
func appendNumber(b []byte, v float64) []byte {
	v = round(v)
	if v == 0 {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// round rounds v to three decimals, the precision of every number written.
func round(v float64) float64 {
	r := math.Round(v*1000) / 1000
	if r == 0 {
		return 0 // no "-0"
	}
	return r
}
