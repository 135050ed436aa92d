package runtime

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/runtime/output"
)

// ReadMaps reads every user map from the kernel, adding up per-CPU copies,
// into the form the printer takes.
func ReadMaps(l *Loaded) ([]*output.Map, error) {
	d := newDecoder(l)
	var out []*output.Map
	for _, md := range l.Prog.Maps {
		m, err := d.readMap(l.Coll.Maps[md.Kernel], md)
		if err != nil {
			return out, fmt.Errorf("reading map %s: %w", md.Name, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// pair is a 16-byte per-CPU value: (value, set) for min/max, (count, total)
// for avg/stats.
type pair struct{ A, B int64 }

// readMap reads one map.
func (d *decoder) readMap(m *ebpf.Map, md *codegen.MapDef) (*output.Map, error) {
	om := &output.Map{Name: md.Name, Agg: aggKind(md.Value.Kind), Keyed: md.Key != nil}
	if md.Value.Kind == lang.KindLhist {
		om.Lhist.Min, om.Lhist.Max, om.Lhist.Step = md.Value.LhistMin, md.Value.LhistMax, md.Value.LhistStep
	}
	// Bucketed maps hold one BPF entry per (key, bucket): gather them by key.
	byKey := map[string]*output.Entry{}
	var order []string

	var key []byte
	iter := m.Iterate()
	switch {
	case md.PerCPU && md.ValueSize == 8:
		var vals []int64
		for iter.Next(&key, &vals) {
			var sum int64
			for _, v := range vals {
				sum += v
			}
			if md.Bucketed {
				uk := key[:len(key)-8]
				bucket := binary.LittleEndian.Uint64(key[len(key)-8:])
				e := byKey[string(uk)]
				if e == nil {
					e = &output.Entry{Key: d.decodeKey(md, uk)}
					byKey[string(uk)] = e
					order = append(order, string(uk))
				}
				n := int(bucket) + 1
				if n > len(e.Buckets) {
					e.Buckets = append(e.Buckets, make([]uint64, n-len(e.Buckets))...)
				}
				e.Buckets[bucket] += uint64(sum)
				continue
			}
			om.Entries = append(om.Entries, output.Entry{Key: d.decodeKey(md, key), Value: output.Int(sum)})
		}
	case md.PerCPU:
		var vals []pair
		for iter.Next(&key, &vals) {
			e := output.Entry{Key: d.decodeKey(md, key)}
			switch md.Value.Kind {
			case lang.KindAvg, lang.KindStats:
				for _, v := range vals {
					e.Count += v.A
					e.Total += v.B
				}
			case lang.KindMin, lang.KindMax:
				set := false
				var best int64
				for _, v := range vals {
					if v.B == 0 {
						continue
					}
					if !set || (md.Value.Kind == lang.KindMin && v.A < best) || (md.Value.Kind == lang.KindMax && v.A > best) {
						best, set = v.A, true
					}
				}
				e.Value = output.Int(best)
			}
			om.Entries = append(om.Entries, e)
		}
	default:
		var val []byte
		for iter.Next(&key, &val) {
			om.Entries = append(om.Entries, output.Entry{Key: d.decodeKey(md, key), Value: d.decode(md.Value, val)})
		}
	}
	if err := iter.Err(); err != nil {
		return nil, err
	}
	for _, k := range order {
		om.Entries = append(om.Entries, *byKey[k])
	}
	// A map without keys that holds nothing (never stored, cleared or
	// deleted) prints nothing in bpftrace 0.17, except a count(), which
	// prints as zero (`@: 0`).
	if md.Key == nil && len(om.Entries) == 0 && md.Value.Kind == lang.KindCount {
		om.Entries = append(om.Entries, output.Entry{Value: d.decode(md.Value, make([]byte, md.ValueSize))})
	}
	return om, nil
}

func (d *decoder) decodeKey(md *codegen.MapDef, key []byte) []output.Value {
	if md.Key == nil {
		return nil
	}
	// @x[a, b] has a tuple key; each element prints as one key part.
	if md.Key.Kind == lang.KindTuple {
		return d.decodeTuple(md.Key, key).Elems
	}
	if md.Key.Kind == lang.KindInt && md.Key.Ptr && len(key) >= 8 {
		return []output.Value{output.Ptr(binary.LittleEndian.Uint64(key))} // @[0x20]
	}
	return []output.Value{d.decode(md.Key, key)}
}

func aggKind(k lang.Kind) output.AggKind {
	switch k {
	case lang.KindCount:
		return output.AggCount
	case lang.KindSum:
		return output.AggSum
	case lang.KindAvg:
		return output.AggAvg
	case lang.KindMin:
		return output.AggMin
	case lang.KindMax:
		return output.AggMax
	case lang.KindStats:
		return output.AggStats
	case lang.KindHist:
		return output.AggHist
	case lang.KindLhist:
		return output.AggLhist
	}
	return output.AggNone
}

// mapKeys lists every key of m.
func mapKeys(m *ebpf.Map) ([][]byte, error) {
	var keys [][]byte
	var prev any // nil: start from the first key
	for {
		next, err := m.NextKeyBytes(prev)
		if err != nil {
			return nil, err
		}
		if next == nil {
			return keys, nil
		}
		keys = append(keys, next)
		prev = next
	}
}

// clearMap deletes every entry (clear(@x)).
func clearMap(m *ebpf.Map) error {
	keys, err := mapKeys(m)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := m.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("clearing map: %w", err)
		}
	}
	return nil
}

// zeroMap sets every value to zero, keeping the keys (zero(@x)).
func zeroMap(m *ebpf.Map, md *codegen.MapDef) error {
	keys, err := mapKeys(m)
	if err != nil {
		return err
	}
	var zero any = make([]byte, md.ValueSize)
	if md.PerCPU {
		ncpu, err := ebpf.PossibleCPU()
		if err != nil {
			return err
		}
		if md.ValueSize == 8 {
			zero = make([]uint64, ncpu)
		} else {
			zero = make([]pair, ncpu)
		}
	}
	for _, k := range keys {
		if err := m.Update(k, zero, ebpf.UpdateExist); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("zeroing map: %w", err)
		}
	}
	return nil
}
