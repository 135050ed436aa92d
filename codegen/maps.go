package codegen

import (
	"github.com/cilium/ebpf/asm"
	"github.com/gotrace/gotrace/lang"
)

// mapKey builds the BPF key for @m[keys...] on the stack and returns its
// offset. Maps without keys use a u64 zero. Bucketed maps (hist, lhist)
// leave the last 8 bytes for the bucket index, filled in by the caller.
func (g *gen) mapKey(md *MapDef, keys []lang.Expr) int16 {
	off := g.alloc(md.KeySize)
	g.buildKey(md, keys, off)
	return off
}

func (g *gen) buildKey(md *MapDef, keys []lang.Expr, off int16) {
	switch {
	case len(keys) == 0 && !md.Bucketed:
		g.emit(storeImm(asm.RFP, off, 0))
	case len(keys) == 1:
		g.memInto(keys[0], off, md.Key.StorageSize())
	case len(keys) > 1:
		for i, k := range keys {
			g.memInto(k, off+int16(md.Key.Offsets[i]), md.Key.Elems[i].StorageSize())
		}
	}
}

// withKey builds the key for @m[keys...] like mapKey and runs f with its
// offset. A key that a helper writes (comm, str()) has its address passed
// three times (to the helper, the lookup and the update): it is kept in a
// spare callee-saved register for f's duration, and addr copies it from
// there in one instruction instead of two.
func (g *gen) withKey(md *MapDef, keys []lang.Expr, f func(key int16)) {
	if len(keys) != 1 || !helperWritesKey(keys[0]) || g.keyAddr.ok {
		f(g.mapKey(md, keys))
		return
	}
	r, ok := g.tryTemp()
	if !ok {
		f(g.mapKey(md, keys))
		return
	}
	off := g.alloc(md.KeySize)
	g.addr(r, off)
	g.keyAddr = fpAddr{reg: r, off: off, ok: true}
	g.buildKey(md, keys, off)
	f(off)
	g.keyAddr = fpAddr{}
	g.release(r)
}

// helperWritesKey reports whether a map key is written by a helper call
// given the key's address: comm and str() of a pointer.
func helperWritesKey(e lang.Expr) bool {
	switch e := e.(type) {
	case *lang.IdentExpr:
		return e.Name == "comm"
	case *lang.CallExpr:
		if e.Name != "str" {
			return false
		}
		_, positional := e.Args[0].(*lang.PositionalExpr)
		return !positional
	}
	return false
}

// bucketOffset is where a bucketed map's key holds the bucket index.
func (md *MapDef) bucketOffset() int16 { return int16(md.KeySize - 8) }

func (g *gen) loadMap(reg asm.Register, md string) {
	g.emit(asm.LoadMapPtr(reg, 0).WithReference(md))
}

// mapLookup leaves a pointer to the value (or NULL) in R0.
func (g *gen) mapLookup(md *MapDef, key int16) {
	g.loadMap(asm.R1, md.Kernel)
	g.addr(asm.R2, key)
	g.emit(asm.FnMapLookupElem.Call())
}

// mapUpdate stores the value at fp+val under the key at fp+key. An update
// the kernel refuses (the map is full) is counted, so the user hears how
// many were dropped.
func (g *gen) mapUpdate(md *MapDef, key, val int16) {
	g.mapUpdateCall(md, key, val)
	if !md.canFill() {
		return
	}
	lOK := g.newLabel()
	g.countDrop(md, lOK)
	g.mark(lOK)
}

// mapUpdateCall calls bpf_map_update_elem; R0 is its result.
func (g *gen) mapUpdateCall(md *MapDef, key, val int16) {
	g.loadMap(asm.R1, md.Kernel)
	g.addr(asm.R2, key)
	g.addr(asm.R3, val)
	g.emit(asm.Mov.Imm(asm.R4, 0), asm.FnMapUpdateElem.Call())
}

// canFill reports whether updates of the map can be refused for want of
// room: a map without keys holds one entry at most.
func (md *MapDef) canFill() bool { return md.Key != nil || md.Bucketed }

// countDrop follows a map update: when R0 says it failed, it adds one to
// the map's dropped-updates counter. An update that succeeded jumps to lOK;
// the code after countDrop runs in both cases.
func (g *gen) countDrop(md *MapDef, lOK label) {
	slot := uint32(8 * (CounterDropped + g.mapIndex(md.Name)))
	if len(g.loops) > 0 {
		// Inside a while loop a branch here would double the paths the
		// verifier explores per iteration: add the sign bit instead (one
		// when the update failed, zero when it did not).
		g.emit(asm.RSh.Imm(asm.R0, 63),
			asm.LoadMapValue(asm.R1, 0, slot).WithReference(CountersMap),
			asm.StoreXAdd(asm.R1, asm.R0, asm.DWord))
		return
	}
	g.jump(asm.JSGE.Imm(asm.R0, 0, ""), lOK)
	g.emit(asm.LoadMapValue(asm.R1, 0, slot).WithReference(CountersMap),
		asm.Mov.Imm(asm.R2, 1), asm.StoreXAdd(asm.R1, asm.R2, asm.DWord))
}

// addCounter atomically adds one to slot i of the counters map.
func (g *gen) addCounter(i int) {
	g.emit(asm.LoadMapValue(asm.R1, 0, uint32(8*i)).WithReference(CountersMap),
		asm.Mov.Imm(asm.R2, 1), asm.StoreXAdd(asm.R1, asm.R2, asm.DWord))
}

// mapReadInt loads an integer map value (0 when the key is absent).
func (g *gen) mapReadInt(md *MapDef, m *lang.MapExpr, dst asm.Register) {
	key := g.mapKey(md, m.Keys)
	g.mapLookup(md, key)
	lEnd := g.newLabel()
	g.emit(asm.Mov.Imm(dst, 0))
	if g.opts.HelperErrorLookups {
		// -kk: a key that is not there is reported (bpftrace's
		// "Failed to map_lookup_elem: 0"), and reads 0.
		lFound := g.newLabel()
		g.jump(asm.JNE.Imm(asm.R0, 0, ""), lFound)
		g.helperError("map_lookup_elem", m)
		g.ja(lEnd)
		g.mark(lFound)
	} else {
		g.jump(asm.JEq.Imm(asm.R0, 0, ""), lEnd)
	}
	switch md.Value.Kind {
	case lang.KindAvg:
		// total / count of this CPU's share.
		g.emit(asm.LoadMem(dst, asm.R0, 8, asm.DWord), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.Div.Reg(dst, asm.R1))
	default:
		g.emit(asm.LoadMem(dst, asm.R0, 0, asm.DWord))
	}
	g.mark(lEnd)
}

// mapStoreInt stores the integer in src as @m[keys] (plain int maps).
func (g *gen) mapStoreInt(md *MapDef, m *lang.MapExpr, src asm.Register) {
	val := g.alloc(8)
	g.emit(asm.StoreMem(asm.RFP, val, src, asm.DWord))
	g.withKey(md, m.Keys, func(key int16) { g.mapUpdate(md, key, val) })
}

// aggregate compiles @m[k] = agg(args).
//
// Aggregation maps are per-CPU, so each CPU updates its own copy without
// contention; user space adds the copies up when printing. The common case,
// a key this CPU has seen before, is a lookup and an update in place; the
// first event of a key on a CPU inserts the initial value instead:
//
//	r0 = lookup(key); if r0 != 0 goto inPlace
//	insert: value = initial; r0 = update(key, value)
//	        if r0 s>= 0 goto end; count the drop; goto end
//	inPlace: *r0 += ...
//	end:
//
// count(), hist() and lhist() add one in place, which is also how a drop is
// counted: their failed insert points R0 at the map's dropped-updates
// counter and falls into the in-place add.
func (g *gen) aggregate(md *MapDef, m *lang.MapExpr, call *lang.CallExpr) {
	g.withTemp(func(v asm.Register) {
		if len(call.Args) > 0 {
			g.intInto(call.Args[0], v)
		}
		g.withKey(md, m.Keys, func(key int16) {
			switch md.Value.Kind {
			case lang.KindHist:
				g.log2Bucket(v, asm.R1)
				g.emit(asm.StoreMem(asm.RFP, key+md.bucketOffset(), asm.R1, asm.DWord))
			case lang.KindLhist:
				g.linearBucket(v, asm.R1, md.Value)
				g.emit(asm.StoreMem(asm.RFP, key+md.bucketOffset(), asm.R1, asm.DWord))
			}
			g.mapLookup(md, key)
			lInPlace, lEnd := g.newLabel(), g.newLabel()
			g.jump(asm.JNE.Imm(asm.R0, 0, ""), lInPlace)

			// First update of this key on this CPU: insert the initial value.
			val := g.alloc(md.ValueSize)
			addsOne := false
			switch md.Value.Kind {
			case lang.KindCount, lang.KindHist, lang.KindLhist:
				g.emit(storeImm(asm.RFP, val, 1))
				addsOne = true
			case lang.KindSum:
				g.emit(asm.StoreMem(asm.RFP, val, v, asm.DWord))
			case lang.KindAvg, lang.KindStats:
				g.emit(storeImm(asm.RFP, val, 1), asm.StoreMem(asm.RFP, val+8, v, asm.DWord))
			case lang.KindMin, lang.KindMax:
				// value, then a flag saying this CPU's copy has been set.
				g.emit(asm.StoreMem(asm.RFP, val, v, asm.DWord), storeImm(asm.RFP, val+8, 1))
			}
			g.mapUpdateCall(md, key, val)
			switch {
			case !md.canFill():
				g.ja(lEnd)
			case addsOne && len(g.loops) == 0:
				g.jump(asm.JSGE.Imm(asm.R0, 0, ""), lEnd)
				slot := uint32(8 * (CounterDropped + g.mapIndex(md.Name)))
				g.emit(asm.LoadMapValue(asm.R0, 0, slot).WithReference(CountersMap))
			default:
				g.countDrop(md, lEnd)
				g.ja(lEnd)
			}

			// The entry exists: update it in place.
			g.mark(lInPlace)
			switch md.Value.Kind {
			case lang.KindCount, lang.KindHist, lang.KindLhist:
				g.emit(asm.Mov.Imm(asm.R1, 1), asm.StoreXAdd(asm.R0, asm.R1, asm.DWord))
			case lang.KindSum:
				g.emit(asm.StoreXAdd(asm.R0, v, asm.DWord))
			case lang.KindAvg, lang.KindStats:
				g.emit(asm.Mov.Imm(asm.R1, 1), asm.StoreXAdd(asm.R0, asm.R1, asm.DWord))
				g.emit(asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord), asm.Add.Reg(asm.R1, v),
					asm.StoreMem(asm.R0, 8, asm.R1, asm.DWord))
			case lang.KindMin, lang.KindMax:
				jop := asm.JSLE // min: keep the current value when it is <= v
				if md.Value.Kind == lang.KindMax {
					jop = asm.JSGE
				}
				g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
				g.jump(jop.Reg(asm.R1, v, ""), lEnd)
				g.emit(asm.StoreMem(asm.R0, 0, v, asm.DWord))
			}
			g.mark(lEnd)
		})
	})
}

// log2Bucket computes bpftrace's hist() bucket of v into dst: 0 for negative
// values, 1 for zero, and 2+floor(log2(v)) otherwise. v is left unchanged.
func (g *gen) log2Bucket(v, dst asm.Register) {
	lDone := g.newLabel()
	g.emit(asm.Mov.Imm(dst, 0))
	g.jump(asm.JSLT.Imm(v, 0, ""), lDone)
	g.emit(asm.Mov.Imm(dst, 1))
	g.jump(asm.JEq.Imm(v, 0, ""), lDone)
	// Binary search for the highest set bit, in R2 (a copy of v).
	g.emit(asm.Mov.Reg(asm.R2, v), asm.Mov.Imm(dst, 2))
	for _, shift := range []int32{32, 16, 8, 4, 2, 1} {
		skip := g.newLabel()
		if shift == 32 {
			g.emit(asm.Mov.Reg(asm.R3, asm.R2), asm.RSh.Imm(asm.R3, 32))
			g.jump(asm.JEq.Imm(asm.R3, 0, ""), skip)
		} else {
			g.jump(asm.JLT.Imm(asm.R2, int32(1)<<shift, ""), skip)
		}
		g.emit(asm.RSh.Imm(asm.R2, shift), asm.Add.Imm(dst, shift))
		g.mark(skip)
	}
	g.mark(lDone)
}

// linearBucket computes lhist()'s bucket of v into dst: 0 below min, 1+n for
// [min+n*step, min+(n+1)*step), and the last bucket at or above max.
func (g *gen) linearBucket(v, dst asm.Register, t *lang.Type) {
	lDone := g.newLabel()
	last := (t.LhistMax-t.LhistMin)/t.LhistStep + 1
	g.emit(asm.Mov.Imm(dst, 0))
	g.emit(asm.LoadImm(asm.R2, t.LhistMin, asm.DWord))
	g.jump(asm.JSLT.Reg(v, asm.R2, ""), lDone)
	g.emit(asm.Mov.Imm(dst, int32(last)))
	g.emit(asm.LoadImm(asm.R2, t.LhistMax, asm.DWord))
	g.jump(asm.JSGE.Reg(v, asm.R2, ""), lDone)
	g.emit(asm.Mov.Reg(dst, v))
	g.emit(asm.LoadImm(asm.R2, t.LhistMin, asm.DWord), asm.Sub.Reg(dst, asm.R2))
	g.emit(asm.Div.Imm(dst, int32(t.LhistStep)), asm.Add.Imm(dst, 1))
	g.mark(lDone)
}
