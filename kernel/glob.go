package kernel

import "strings"

// HasWildcard reports whether s contains a glob metacharacter understood by
// Glob: '*', '?' or '['.
func HasWildcard(s string) bool {
	return strings.ContainsAny(s, "*?[")
}

// Glob reports whether name matches pattern. '*' matches any run of
// characters (including ':' and '/'), '?' matches one character, and
// "[...]" matches one character from a set ("[a-z]", negated with "[!...]"
// or "[^...]"). A '[' without a closing ']' matches itself. There are no
// escapes: probe names never contain metacharacters.
func Glob(pattern, name string) bool {
	// Iterative matcher with single-star backtracking (linear for the
	// patterns probe listings use).
	px, nx := 0, 0
	starPx, starNx := -1, -1
	for nx < len(name) || px < len(pattern) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starPx, starNx = px, nx
				px++
				continue
			case '?':
				if nx < len(name) {
					px++
					nx++
					continue
				}
			case '[':
				if nx < len(name) {
					if ok, width, valid := matchClass(pattern[px:], name[nx]); valid {
						if ok {
							px += width
							nx++
							continue
						}
						break
					}
				}
				if nx < len(name) && name[nx] == '[' {
					px++
					nx++
					continue
				}
			default:
				if nx < len(name) && name[nx] == c {
					px++
					nx++
					continue
				}
			}
		}
		if starPx >= 0 && starNx < len(name) {
			starNx++
			px, nx = starPx+1, starNx
			continue
		}
		return false
	}
	return true
}

// matchClass matches c against the bracket expression at the start of p.
// It returns whether c matched, the width of the expression, and whether p
// starts with a well-formed expression at all.
func matchClass(p string, c byte) (matched bool, width int, valid bool) {
	i := 1
	negate := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		negate = true
		i++
	}
	first := true
	for i < len(p) {
		if p[i] == ']' && !first {
			return matched != negate, i + 1, true
		}
		first = false
		lo := p[i]
		hi := lo
		if i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']' {
			hi = p[i+2]
			i += 3
		} else {
			i++
		}
		if lo <= c && c <= hi {
			matched = true
		}
	}
	return false, 0, false
}
