package stdlib

import (
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/types"
)

// Aggregations keep one value per CPU (a per-CPU map) and are merged in user
// space, so the hot path needs no atomic instructions. Value layouts:
//
//	count, sum:           u64 total
//	avg, stats:           u64 count, s64 sum
//	min, max:             s64 value, u64 set (0 until this CPU saw a value)
//	hist, lhist:          u64 count, in a map whose key ends with a u64 bucket
func aggregations() []*Func {
	return []*Func{
		{
			Name: "count", Help: "count(): number of times the statement ran", Kind: Aggregation,
			Check: aggCheck(types.Count, 0),
			Agg: &AggSpec{Kind: types.Count, ValueSize: 8, Update: func(e Emitter) {
				e.Emit(
					asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord),
					asm.Add.Imm(asm.R0, 1),
					asm.StoreMem(asm.R1, 0, asm.R0, asm.DWord),
				)
			}},
		},
		{
			Name: "sum", Help: "sum(n): total of n", Kind: Aggregation, MinArgs: 1, MaxArgs: 1,
			Check: aggCheck(types.Sum, 1),
			Agg: &AggSpec{Kind: types.Sum, ValueSize: 8, Update: func(e Emitter) {
				e.Emit(
					asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord),
					asm.Add.Reg(asm.R0, asm.R2),
					asm.StoreMem(asm.R1, 0, asm.R0, asm.DWord),
				)
			}},
		},
		countAndSum("avg", "avg(n): average of n", types.Avg),
		countAndSum("stats", "stats(n): count, average and total of n", types.Stats),
		extreme("min", "min(n): smallest n", types.Min, asm.JSGE),
		extreme("max", "max(n): largest n", types.Max, asm.JSLE),
		{
			Name: "hist", Help: "hist(n): power-of-two histogram of n", Kind: Aggregation, MinArgs: 1, MaxArgs: 2,
			Check: func(a *Args) (*types.Type, error) {
				args, literal := a.Types, a.Ints
				if err := intArg("hist", args, 0); err != nil {
					return nil, err
				}
				t := types.NewAgg(types.Hist)
				if len(args) == 2 {
					k, err := constArg("hist", literal, 1, "second argument (k: 2^k buckets per power of two)")
					if err != nil {
						return nil, err
					}
					if k < 0 || k > maxHistBits {
						return nil, argErr(1, "hist()'s k must be between 0 and %d, not %d", maxHistBits, k)
					}
					t.HistBits = int(k)
				}
				return t, nil
			},
			Agg: &AggSpec{Kind: types.Hist, ValueSize: 8, Bucket: log2Bucket, Update: incr},
		},
		{
			Name: "lhist", Help: "lhist(n, min, max, step): linear histogram of n", Kind: Aggregation, MinArgs: 4, MaxArgs: 4,
			Check: func(a *Args) (*types.Type, error) {
				args, literal := a.Types, a.Ints
				if err := intArg("lhist", args, 0); err != nil {
					return nil, err
				}
				min, err := constArg("lhist", literal, 1, "min")
				if err != nil {
					return nil, err
				}
				max, err := constArg("lhist", literal, 2, "max")
				if err != nil {
					return nil, err
				}
				step, err := constArg("lhist", literal, 3, "step")
				if err != nil {
					return nil, err
				}
				switch {
				case min < 0:
					return nil, argErr(1, "lhist()'s min must be zero or more")
				case max <= min:
					return nil, argErr(2, "lhist()'s max must be greater than its min")
				case step <= 0:
					return nil, argErr(3, "lhist()'s step must be greater than zero")
				case (max-min)/step > 1000:
					return nil, argErr(3, "lhist() would have %d buckets; the limit is 1000", (max-min)/step)
				}
				t := types.NewAgg(types.Lhist)
				t.LhistMin, t.LhistMax, t.LhistStep = min, max, step
				return t, nil
			},
			Agg: &AggSpec{Kind: types.Lhist, ValueSize: 8, Bucket: linearBucket, Update: incr},
		},
	}
}

func aggCheck(k types.AggKind, nargs int) func(*Args) (*types.Type, error) {
	return func(a *Args) (*types.Type, error) {
		args := a.Types
		if nargs == 1 {
			if err := intArg(string(k), args, 0); err != nil {
				return nil, err
			}
		}
		return types.NewAgg(k), nil
	}
}

func incr(e Emitter) {
	e.Emit(
		asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord),
		asm.Add.Imm(asm.R0, 1),
		asm.StoreMem(asm.R1, 0, asm.R0, asm.DWord),
	)
}

func countAndSum(name, help string, k types.AggKind) *Func {
	return &Func{
		Name: name, Help: help, Kind: Aggregation, MinArgs: 1, MaxArgs: 1,
		Check: aggCheck(k, 1),
		Agg: &AggSpec{Kind: k, ValueSize: 16, Update: func(e Emitter) {
			e.Emit(
				asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord),
				asm.Add.Imm(asm.R0, 1),
				asm.StoreMem(asm.R1, 0, asm.R0, asm.DWord),
				asm.LoadMem(asm.R0, asm.R1, 8, asm.DWord),
				asm.Add.Reg(asm.R0, asm.R2),
				asm.StoreMem(asm.R1, 8, asm.R0, asm.DWord),
			)
		}},
	}
}

// extreme is min or max; keep jumps over the store when the current value
// already wins.
func extreme(name, help string, k types.AggKind, keep asm.JumpOp) *Func {
	return &Func{
		Name: name, Help: help, Kind: Aggregation, MinArgs: 1, MaxArgs: 1,
		Check: aggCheck(k, 1),
		Agg: &AggSpec{Kind: k, ValueSize: 16, Update: func(e Emitter) {
			set, done := e.Label(), e.Label()
			e.Emit(
				asm.LoadMem(asm.R0, asm.R1, 8, asm.DWord),
				asm.JEq.Imm(asm.R0, 0, set),
				asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord),
				keep.Reg(asm.R2, asm.R0, done),
				asm.StoreMem(asm.R1, 0, asm.R2, asm.DWord).WithSymbol(set),
				asm.Mov.Imm(asm.R0, 1),
				asm.StoreMem(asm.R1, 8, asm.R0, asm.DWord),
				asm.Mov.Imm(asm.R0, 0).WithSymbol(done),
			)
		}},
	}
}

// maxHistBits bounds hist()'s k, as in bpftrace: 2^5 buckets per power of
// two is already finer than most uses need.
const maxHistBits = 5

// log2Bucket computes hist(n, k)'s bucket for the signed value n in R1.
// With k = 0: 0 for negative n, 1 for zero, and 2 + floor(log2(n)) for
// n >= 1. In general each power of two [2^p, 2^(p+1)) is cut into 2^k
// equal buckets: values below 2^k get one bucket each (n + 1), and above
// that, with l = floor(log2(n)) - k, n falls in bucket
// ((l + 1) << k) + ((n >> l) & (2^k - 1)) + 1. (stdlib/format's histogram
// labels invert this numbering.) floor(log2(n)) comes from a
// branch-per-bit binary search: no loops, so the verifier is happy.
func log2Bucket(e Emitter, t *types.Type) {
	k := int32(t.HistBits)
	mask := int32(1)<<k - 1
	done := e.Label()
	e.Emit(
		asm.Mov.Imm(asm.R0, 0),
		asm.JSLT.Imm(asm.R1, 0, done),
		asm.Mov.Reg(asm.R0, asm.R1),
		asm.Add.Imm(asm.R0, 1),
		asm.JLE.Imm(asm.R1, mask, done),
		asm.Mov.Reg(asm.R3, asm.R1), // n, kept for the sub-bucket
		asm.Mov.Imm(asm.R0, 0),
	)
	for _, shift := range []int32{32, 16, 8, 4, 2, 1} {
		skip := e.Label()
		e.Emit(
			asm.Mov.Reg(asm.R2, asm.R1),
			asm.RSh.Imm(asm.R2, shift),
			asm.JEq.Imm(asm.R2, 0, skip),
			asm.Add.Imm(asm.R0, shift),
			asm.Mov.Reg(asm.R1, asm.R2),
			asm.Mov.Imm(asm.R2, 0).WithSymbol(skip),
		)
	}
	// R0 = floor(log2(n)); turn it into l, then the bucket.
	e.Emit(
		asm.Sub.Imm(asm.R0, k),
		asm.RSh.Reg(asm.R3, asm.R0),
		asm.And.Imm(asm.R3, mask),
		asm.Add.Imm(asm.R0, 1),
		asm.LSh.Imm(asm.R0, k),
		asm.Add.Reg(asm.R0, asm.R3),
		asm.Add.Imm(asm.R0, 1),
		asm.Mov.Reg(asm.R1, asm.R1).WithSymbol(done),
	)
}

// linearBucket computes lhist()'s bucket for the signed value in R1: 0
// below min, 1 + (n-min)/step inside, and the last bucket at or above max.
func linearBucket(e Emitter, t *types.Type) {
	done := e.Label()
	last := (t.LhistMax-t.LhistMin)/t.LhistStep + 1
	e.Emit(
		asm.Mov.Imm(asm.R0, 0),
		asm.JSLT.Imm(asm.R1, int32(t.LhistMin), done),
		asm.Mov.Imm(asm.R0, int32(last)),
		asm.JSGE.Imm(asm.R1, int32(t.LhistMax), done),
		asm.Mov.Reg(asm.R0, asm.R1),
		asm.Sub.Imm(asm.R0, int32(t.LhistMin)),
		asm.Div.Imm(asm.R0, int32(t.LhistStep)),
		asm.Add.Imm(asm.R0, 1),
		asm.Mov.Reg(asm.R1, asm.R1).WithSymbol(done),
	)
}
