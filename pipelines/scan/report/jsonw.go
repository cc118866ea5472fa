package report

import (
	"strconv"
	"unicode/utf8"
)

// jw appends JSON to one buffer. SARIF and the GitLab report are written
// with it instead of encoding/json: on a 10 000-finding report reflection
// and buffer regrowth cost several times the output's size.
type jw struct{ b []byte }

const hexDigits = "0123456789abcdef"

// str appends s as a JSON string, escaped as encoding/json does
// (invalid UTF-8 becomes U+FFFD).
func (w *jw) str(s string) {
	w.b = append(w.b, '"')
	w.esc(s)
	w.b = append(w.b, '"')
}

// strs appends the concatenation of parts as one JSON string.
func (w *jw) strs(parts ...string) {
	w.b = append(w.b, '"')
	for _, p := range parts {
		w.esc(p)
	}
	w.b = append(w.b, '"')
}

// esc appends s escaped, without quotes.
func (w *jw) esc(s string) {
	b := w.b
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	w.b = append(b, s[start:]...)
}

func (w *jw) raw(s string) { w.b = append(w.b, s...) }
func (w *jw) byte(c byte)  { w.b = append(w.b, c) }
func (w *jw) int(n int)    { w.b = strconv.AppendInt(w.b, int64(n), 10) }
func (w *jw) comma(i int) {
	if i > 0 {
		w.b = append(w.b, ',')
	}
}
func (w *jw) bytes(p []byte) { w.b = append(w.b, p...) }
