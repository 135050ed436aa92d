package output

import (
	"math/bits"
	"sort"
	"strconv"
	"strings"
)

// AggKind says what a map holds.
type AggKind int

const (
	AggNone  AggKind = iota // plain values: @x[k] = v
	AggCount                // count()
	AggSum                  // sum()
	AggAvg                  // avg()
	AggMin                  // min()
	AggMax                  // max()
	AggStats                // stats()
	AggHist                 // hist()
	AggLhist                // lhist()
)

// Entry is one key of a map with its merged (all-CPU) value.
type Entry struct {
	Key     []Value  // empty for an unkeyed map; one element per key part
	Value   Value    // plain maps and count/sum/min/max
	Count   int64    // avg, stats
	Total   int64    // avg, stats
	Buckets []uint64 // hist, lhist
}

// LhistParams are lhist()'s min, max and step.
type LhistParams struct{ Min, Max, Step int64 }

// Map is one BPF map's decoded content.
type Map struct {
	Name    string // "@x", or "@" for the anonymous map
	Agg     AggKind
	Keyed   bool
	Lhist   LhistParams
	Entries []Entry
}

func (m *Map) keyed() bool {
	if m.Keyed {
		return true
	}
	for _, e := range m.Entries {
		if len(e.Key) > 0 {
			return true
		}
	}
	return false
}

func (e *Entry) average() int64 {
	if e.Count == 0 {
		return 0
	}
	return e.Total / e.Count
}

func (e *Entry) bucketSum() int64 {
	var s int64
	for _, b := range e.Buckets {
		s += int64(b)
	}
	return s
}

// sortedEntries returns m's entries in bpftrace 0.17's print order, with
// top applied.
func sortedEntries(m *Map, top int64) []Entry {
	es := append([]Entry(nil), m.Entries...)
	switch m.Agg {
	case AggHist, AggLhist, AggAvg, AggStats:
		// bpftrace collects these in a std::map keyed by the raw key
		// bytes, then sorts by total count or average. Ties keep the raw
		// byte order (little-endian integers: 256 before 1).
		sort.SliceStable(es, func(i, j int) bool { return rawKeyLess(es[i].Key, es[j].Key) })
		if m.Agg == AggHist || m.Agg == AggLhist {
			sort.SliceStable(es, func(i, j int) bool { return es[i].bucketSum() < es[j].bucketSum() })
		} else {
			sort.SliceStable(es, func(i, j int) bool { return es[i].average() < es[j].average() })
		}
	default:
		// Sorted by key first: that is bpftrace's order for non-integer
		// values, and a deterministic tie-break (bpftrace leaves ties in
		// BPF hash order) for integer ones.
		sortByKey(es)
		if m.Agg != AggNone || allInts(es) {
			sort.SliceStable(es, func(i, j int) bool { return valueLess(es[i].Value, es[j].Value) })
		}
	}
	// Stats maps ignore top in bpftrace 0.17.
	if top > 0 && m.Agg != AggStats && int64(len(es)) > top {
		es = es[int64(len(es))-top:]
	}
	return es
}

func allInts(es []Entry) bool {
	for _, e := range es {
		if e.Value.Kind != KindInt {
			return false
		}
	}
	return len(es) > 0
}

func valueLess(a, b Value) bool {
	if a.Signed || b.Signed {
		return a.Int < b.Int
	}
	return uint64(a.Int) < uint64(b.Int)
}

// sortByKey stable-sorts by each key part, last part first, like
// bpftrace's sort_by_key: integers as unsigned numbers, strings
// bytewise; other kinds (stacks, symbols...) are left as they are.
func sortByKey(es []Entry) {
	n := 0
	for _, e := range es {
		if len(e.Key) > n {
			n = len(e.Key)
		}
	}
	for p := n - 1; p >= 0; p-- {
		sort.SliceStable(es, func(i, j int) bool {
			a, b := keyPart(es[i].Key, p), keyPart(es[j].Key, p)
			switch {
			case a.Kind == KindInt && b.Kind == KindInt:
				return uint64(a.Int) < uint64(b.Int)
			case a.Kind == KindStr && b.Kind == KindStr:
				return cstr(a.Str) < cstr(b.Str)
			}
			return false
		})
	}
}

func keyPart(k []Value, i int) Value {
	if i < len(k) {
		return k[i]
	}
	return Value{}
}

// rawKeyLess compares keys as their raw BPF bytes compare: integers are
// little-endian, strings zero-padded, buffers a length byte then data.
func rawKeyLess(a, b []Value) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := rawCompare(a[i], b[i]); c != 0 {
			return c < 0
		}
	}
	return len(a) < len(b)
}

func rawCompare(a, b Value) int {
	if a.Kind != b.Kind {
		return 0
	}
	switch a.Kind {
	case KindInt:
		x, y := bits.ReverseBytes64(uint64(a.Int)), bits.ReverseBytes64(uint64(b.Int))
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	case KindStr:
		return strings.Compare(cstr(a.Str), cstr(b.Str))
	case KindBuf:
		if len(a.Str) != len(b.Str) {
			if uint8(len(a.Str)) < uint8(len(b.Str)) {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Str, b.Str)
	}
	return 0
}

// divide applies print()'s div to a count/sum/min/max value.
func divide(v Value, div int64) Value {
	if div <= 1 || v.Kind != KindInt {
		return v
	}
	if v.Signed {
		v.Int /= div
	} else {
		v.Int = int64(uint64(v.Int) / uint64(div))
	}
	return v
}

// delimited reports whether entries of a plain map are separated by
// newlines: not when the values are stacks or symbols (bpftrace 0.17).
func delimited(m *Map) bool {
	for _, e := range m.Entries {
		if e.Value.Kind == KindStack || e.Value.Kind == KindSym {
			return false
		}
	}
	return true
}

// ---- text ----

func textKey(m *Map, e *Entry, keyed bool) string {
	if !keyed && len(e.Key) == 0 {
		return m.Name
	}
	parts := make([]string, len(e.Key))
	for i, k := range e.Key {
		parts[i] = k.keyText()
	}
	return m.Name + "[" + strings.Join(parts, ", ") + "]"
}

func mapText(m *Map, top, div int64) string {
	keyed := m.keyed()
	es := sortedEntries(m, top)
	elems := make([]string, len(es))
	var b strings.Builder
	switch m.Agg {
	case AggHist, AggLhist:
		for i := range es {
			var h string
			if m.Agg == AggHist {
				h = histText(es[i].Buckets, div)
			} else {
				h = lhistText(es[i].Buckets, m.Lhist)
			}
			elems[i] = textKey(m, &es[i], keyed) + ": \n" + h
		}
		b.WriteString(strings.Join(elems, "\n"))
		b.WriteString("\n")
	case AggAvg, AggStats:
		for i := range es {
			e := &es[i]
			var v string
			if m.Agg == AggStats {
				v = "count " + strconv.FormatInt(e.Count, 10) +
					", average " + strconv.FormatInt(e.average(), 10) +
					", total " + strconv.FormatInt(e.Total, 10)
			} else {
				v = strconv.FormatInt(e.average()/max(div, 1), 10)
			}
			elems[i] = textKey(m, e, keyed) + ": " + v
		}
		b.WriteString(strings.Join(elems, "\n"))
		b.WriteString("\n\n")
	default:
		for i := range es {
			elems[i] = textKey(m, &es[i], keyed) + ": " + divide(es[i].Value, div).text(valueIndent)
		}
		sep := "\n"
		if !delimited(m) {
			sep = ""
		}
		b.WriteString(strings.Join(elems, sep))
		b.WriteString("\n")
	}
	return b.String()
}

const barWidth = 52

// histRange returns the lowest and highest non-empty bucket and the
// largest count (bpftrace's hist_prepare), or lo == -1 when all are empty.
func histRange(bs []uint64) (lo, hi int, maxv uint64) {
	lo, hi = -1, -1
	for i, v := range bs {
		if v > 0 {
			if lo == -1 {
				lo = i
			}
			hi = i
		}
		if v > maxv {
			maxv = v
		}
	}
	return
}

func histRow(b *strings.Builder, label string, count, v, maxv uint64) {
	// bpftrace: int bar_width = values.at(i)/(float)max_value*max_width;
	w := int(float32(v) / float32(maxv) * float32(barWidth))
	w = min(max(w, 0), barWidth)
	b.WriteString(label)
	for n := len(label); n < 16; n++ {
		b.WriteByte(' ')
	}
	c := strconv.FormatUint(count, 10)
	for n := len(c); n < 8; n++ {
		b.WriteByte(' ')
	}
	b.WriteString(c)
	b.WriteString(" |")
	b.WriteString(strings.Repeat("@", w))
	b.WriteString(strings.Repeat(" ", barWidth-w))
	b.WriteString("|\n")
}

// histLabel is bpftrace 0.17's hist_index_label: 1 << power with a
// 1024-based K, M, G or T suffix.
func histLabel(power int) string {
	suffix := ""
	switch {
	case power >= 40:
		suffix, power = "T", power-40
	case power >= 30:
		suffix, power = "G", power-30
	case power >= 20:
		suffix, power = "M", power-20
	case power >= 10:
		suffix, power = "K", power-10
	}
	return strconv.FormatInt(int64(int32(uint32(1)<<(uint(power)&31))), 10) + suffix
}

func histText(bs []uint64, div int64) string {
	lo, hi, maxv := histRange(bs)
	if lo == -1 {
		return ""
	}
	if div < 1 {
		div = 1
	}
	var b strings.Builder
	for i := lo; i <= hi; i++ {
		var label string
		switch i {
		case 0:
			label = "(..., 0)"
		case 1:
			label = "[0]"
		case 2:
			label = "[1]"
		default:
			label = "[" + histLabel(i-2) + ", " + histLabel(i-1) + ")"
		}
		histRow(&b, label, bs[i]/uint64(div), bs[i], maxv)
	}
	return b.String()
}

// lhistLabel is bpftrace 0.17's lhist_index_label.
func lhistLabel(n int64) string {
	switch {
	case n == 0:
		return "0"
	case n%(1<<20) == 0:
		return strconv.FormatInt(n/(1<<20), 10) + "M"
	case n%(1<<10) == 0:
		return strconv.FormatInt(n/(1<<10), 10) + "K"
	}
	return strconv.FormatInt(n, 10)
}

// lhistRange returns the first and last non-empty bucket among the
// (Max-Min)/Step+2 buckets, or ok == false when there is none.
func lhistRange(bs []uint64, p LhistParams) (lo, hi int, maxv uint64, n int64, ok bool) {
	lo, hi = -1, 0
	if p.Step > 0 {
		n = (p.Max - p.Min) / p.Step
	}
	for i, v := range bs {
		if v > maxv {
			maxv = v
		}
		if v != 0 && int64(i) <= n+1 {
			if lo == -1 {
				lo = i
			}
			hi = i
		}
	}
	return lo, hi, maxv, n, lo != -1
}

func lhistText(bs []uint64, p LhistParams) string {
	lo, hi, maxv, n, ok := lhistRange(bs, p)
	if !ok {
		return ""
	}
	var b strings.Builder
	for i := lo; i <= hi; i++ {
		var label string
		switch int64(i) {
		case 0:
			label = "(..., " + lhistLabel(p.Min) + ")"
		case n + 1:
			label = "[" + lhistLabel(p.Max) + ", ...)"
		default:
			label = "[" + lhistLabel(int64(i-1)*p.Step+p.Min) + ", " + lhistLabel(int64(i)*p.Step+p.Min) + ")"
		}
		histRow(&b, label, bs[i], bs[i], maxv)
	}
	return b.String()
}

// ---- JSON ----

func jsonMapType(a AggKind) string {
	switch a {
	case AggHist, AggLhist:
		return "hist"
	case AggAvg, AggStats:
		return "stats"
	}
	return "map"
}

func jsonKey(e *Entry) string {
	if len(e.Key) == 0 {
		return ""
	}
	parts := make([]string, len(e.Key))
	for i, k := range e.Key {
		parts[i] = k.keyText()
	}
	return `"` + jsonEscape(strings.Join(parts, ",")) + `"`
}

// mapJSON renders a map as one NDJSON line, or "" for an empty map.
func mapJSON(m *Map, top, div int64) string {
	if len(m.Entries) == 0 {
		return ""
	}
	keyed := m.keyed()
	es := sortedEntries(m, top)
	elems := make([]string, len(es))
	for i := range es {
		e := &es[i]
		var v string
		switch m.Agg {
		case AggHist:
			v = histJSON(e.Buckets, div)
		case AggLhist:
			v = lhistJSON(e.Buckets, m.Lhist)
		case AggAvg:
			v = strconv.FormatInt(e.average()/max(div, 1), 10)
		case AggStats:
			v = `{"count": ` + strconv.FormatInt(e.Count, 10) +
				`, "average": ` + strconv.FormatInt(e.average(), 10) +
				`, "total": ` + strconv.FormatInt(e.Total, 10) + `}`
		default:
			v = divide(e.Value, div).json()
		}
		if k := jsonKey(e); k != "" {
			v = k + ": " + v
		}
		elems[i] = v
	}
	var b strings.Builder
	b.WriteString(`{"type": "` + jsonMapType(m.Agg) + `", "data": {"` + jsonEscape(m.Name) + `": `)
	if keyed {
		b.WriteString("{")
	}
	b.WriteString(strings.Join(elems, ", "))
	if keyed {
		b.WriteString("}")
	}
	b.WriteString("}}\n")
	return b.String()
}

func histJSON(bs []uint64, div int64) string {
	lo, hi, _ := histRange(bs)
	if lo == -1 {
		return "[]"
	}
	if div < 1 {
		div = 1
	}
	var b strings.Builder
	b.WriteString("[")
	for i := lo; i <= hi; i++ {
		if i > lo {
			b.WriteString(", ")
		}
		b.WriteString("{")
		switch i {
		case 0:
			b.WriteString(`"max": -1, `)
		case 1:
			b.WriteString(`"min": 0, "max": 0, `)
		case 2:
			b.WriteString(`"min": 1, "max": 1, `)
		default:
			// bpftrace 0.17 computes the bounds in 32-bit int: the
			// [2G, 4G) bucket reads {"min": -2147483648, "max": 0}.
			k := uint(i - 2)
			low := int32(uint32(1) << (k & 31))
			high := int32(uint32(1)<<((k+1)&31)) - 1
			b.WriteString(`"min": ` + strconv.FormatInt(int64(low), 10) + `, "max": ` + strconv.FormatInt(int64(high), 10) + `, `)
		}
		b.WriteString(`"count": ` + strconv.FormatUint(bs[i]/uint64(div), 10) + "}")
	}
	b.WriteString("]")
	return b.String()
}

func lhistJSON(bs []uint64, p LhistParams) string {
	lo, hi, _, n, ok := lhistRange(bs, p)
	if !ok {
		return "[]"
	}
	var b strings.Builder
	b.WriteString("[")
	for i := lo; i <= hi; i++ {
		if i > lo {
			b.WriteString(", ")
		}
		b.WriteString("{")
		switch int64(i) {
		case 0:
			b.WriteString(`"max": ` + strconv.FormatInt(p.Min-1, 10) + `, `)
		case n + 1:
			b.WriteString(`"min": ` + strconv.FormatInt(p.Max, 10) + `, `)
		default:
			low := int64(i-1)*p.Step + p.Min
			high := int64(i)*p.Step + p.Min - 1
			b.WriteString(`"min": ` + strconv.FormatInt(low, 10) + `, "max": ` + strconv.FormatInt(high, 10) + `, `)
		}
		b.WriteString(`"count": ` + strconv.FormatUint(bs[i], 10) + "}")
	}
	b.WriteString("]")
	return b.String()
}
