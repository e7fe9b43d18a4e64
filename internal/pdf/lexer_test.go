package pdf

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// lexAll returns every token of in, rendered for comparison.
func lexAll(in string, final bool) ([]string, error) {
	lx := lexer{data: []byte(in), final: final}
	var out []string
	for range 1000 {
		t, err := lx.next()
		if err != nil {
			return out, err
		}
		switch t.kind {
		case tokEOF:
			return out, nil
		case tokInteger:
			out = append(out, fmt.Sprintf("int %d", t.i))
		case tokReal:
			out = append(out, fmt.Sprintf("real %g", t.f))
		case tokString:
			out = append(out, fmt.Sprintf("str %q", t.raw))
		case tokHex:
			out = append(out, fmt.Sprintf("hex %q", t.raw))
		case tokName:
			out = append(out, fmt.Sprintf("name %q", t.raw))
		case tokKeyword:
			out = append(out, fmt.Sprintf("kw %s", t.raw))
		case tokArrayOpen:
			out = append(out, "[")
		case tokArrayClose:
			out = append(out, "]")
		case tokDictOpen:
			out = append(out, "<<")
		case tokDictClose:
			out = append(out, ">>")
		}
	}
	return out, errors.New("too many tokens")
}

func TestLexer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"numbers", "1 -2 +3 4. -.5 0.25 .5 -0", []string{"int 1", "int -2", "int 3", "real 4", "real -0.5", "real 0.25", "real 0.5", "int 0"}},
		{"huge integer becomes real", "99999999999999999999", []string{"real 1e+20"}},
		{"bad numbers are keywords", "1.2.3 --4 +", []string{"kw 1.2.3", "kw --4", "kw +"}},
		{"keywords", "true false null R obj endobj", []string{"kw true", "kw false", "kw null", "kw R", "kw obj", "kw endobj"}},
		{"all white space", "1\x002\t3\n4\f5\r6 7", []string{"int 1", "int 2", "int 3", "int 4", "int 5", "int 6", "int 7"}},
		{"comments", "1 % comment ) ( \r2%x\n3", []string{"int 1", "int 2", "int 3"}},
		{"names", "/Name /A#20B /#2F /a#zz /", []string{`name "Name"`, `name "A B"`, `name "/"`, `name "a#zz"`, `name ""`}},
		{"names end at delimiters", "/A/B[/C]", []string{`name "A"`, `name "B"`, "[", `name "C"`, "]"}},
		{"literal balanced", "(a(b)c)", []string{`str "a(b)c"`}},
		{"literal escapes", `(\n\r\t\b\f\(\)\\\q)`, []string{`str "\n\r\t\b\f()\\q"`}},
		{"literal octal", `(\101\0053\7\777)`, []string{`str "A\x053\a\xff"`}},
		{"literal continuation", "(a\\\r\nb\\\nc\\\rd)", []string{`str "abcd"`}},
		{"literal eol normalised", "(a\r\nb\rc\nd)", []string{`str "a\nb\nc\nd"`}},
		{"hex", "<48 65 6c6C6f>", []string{`hex "Hello"`}},
		{"hex odd digits", "<414>", []string{`hex "A@"`}},
		{"hex empty", "<>", []string{`hex ""`}},
		{"dict", "<</A 1>>", []string{"<<", `name "A"`, "int 1", ">>"}},
		{"ref", "12 0 R", []string{"int 12", "int 0", "kw R"}},
		{"braces", "{1}", []string{"kw {", "int 1", "kw }"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := lexAll(tc.in, true)
			if err != nil {
				t.Fatalf("lex(%q) error = %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("lex(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestLexerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		final bool
		want  error // errNeedMore, or nil for a *SyntaxError
	}{
		{"unterminated string", "(abc", true, nil},
		{"unterminated string in window", "(abc", false, errNeedMore},
		{"unterminated hex", "<41", true, nil},
		{"bad hex", "<4G>", true, nil},
		{"unbalanced close paren", ")", true, nil},
		{"lone greater-than", "> ", true, nil},
		{"number at window end", "123", false, errNeedMore},
		{"name at window end", "/Ab", false, errNeedMore},
		{"comment at window end", "% abc", false, errNeedMore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := lexAll(tc.in, tc.final)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("lex(%q) error = %v, want %v", tc.in, err, tc.want)
				}
				return
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("lex(%q) error = %v, want a *SyntaxError", tc.in, err)
			}
		})
	}
}

func TestParseObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Object
	}{
		{"integer", "42", Integer(42)},
		{"real", "-.5", Real(-0.5)},
		{"bool", "true", Bool(true)},
		{"null", "null", nil},
		{"ref", "12 3 R", Ref{Num: 12, Gen: 3}},
		{"two integers are not a ref", "[12 3]", Array{Integer(12), Integer(3)}},
		{"refs in array", "[1 0 R 2 0 R 3]", Array{Ref{1, 0}, Ref{2, 0}, Integer(3)}},
		{"negative is not a ref", "[-1 0 R]", nil},
		{"dict", "<</Type/Page/Kids[1 0 R]/Count 1/N null>>", Dict{"Type": Name("Page"), "Kids": Array{Ref{1, 0}}, "Count": Integer(1)}},
		{"nested", "<</A<</B[(x)<79>]>>>>", Dict{"A": Dict{"B": Array{String("x"), HexString("y")}}}},
		{"empty dict", "<<>>", Dict{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newParser([]byte(tc.in), 0, true, 8)
			got, err := p.object()
			if tc.name == "negative is not a ref" {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("parse(%q) = %v, %v; want a *SyntaxError (R without a reference)", tc.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse(%q) error = %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parse(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestParseObjectErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want error // ErrLimit or nil for *SyntaxError
	}{
		{"too deep", "[[[[[[[[[[1]]]]]]]]]]", ErrLimit},
		{"key not a name", "<<1 2>>", nil},
		{"key without value", "<</A>>", nil},
		{"unterminated dict", "<</A 1", nil},
		{"unterminated array", "[1 2", nil},
		{"stray close", "]", nil},
		{"empty", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newParser([]byte(tc.in), 0, true, 8)
			_, err := p.object()
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("parse(%q) error = %v, want %v", tc.in, err, tc.want)
				}
				return
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("parse(%q) error = %v, want a *SyntaxError", tc.in, err)
			}
		})
	}
}
