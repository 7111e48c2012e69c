package probes

import (
	"fmt"
	"io"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/perf"
	"github.com/gotrace/gotrace/runtime/tracefs"
)

// tracepointProvider is `tracepoint:CATEGORY:NAME` (alias `t`). Both parts
// may contain wildcards. The program reads the trace record directly: its
// fields, described by the tracepoint's format file, become `args`.
func tracepointProvider() *Provider {
	p := &Provider{
		Name:     "tracepoint",
		Aliases:  []string{"t"},
		Help:     "kernel static tracepoints: tracepoint:CATEGORY:NAME",
		ProgType: ebpf.TracePoint,
		Access:   TracepointArgs,
		// A wildcard's targets then share one program unless they read
		// args (whose layouts differ): fewer programs to load.
		Cookie: true,
		Chain:  true,
	}
	p.Resolve = func(env *Env, ap AttachSpec) ([]*Target, error) {
		if len(ap.Parts) != 3 || ap.Parts[1] == "" || ap.Parts[2] == "" {
			return nil, fmt.Errorf("tracepoint needs a category and a name: tracepoint:CATEGORY:NAME")
		}
		src, err := env.tracepoints()
		if err != nil {
			return nil, err
		}
		tps, err := src.Match(ap.Parts[1], ap.Parts[2])
		if err != nil {
			return nil, err
		}
		var out []*Target
		for _, tp := range tps {
			f, err := src.Format(tp.Category, tp.Name)
			if err != nil {
				return nil, err
			}
			out = append(out, &Target{
				Provider:     p,
				Name:         "tracepoint:" + tp.Category + ":" + tp.Name,
				Category:     tp.Category,
				Event:        tp.Name,
				TracepointID: f.ID,
				Args:         ArgsType(f),
			})
		}
		return out, nil
	}
	p.Attach = func(t *Target, prog *ebpf.Program, cookie uint64) (io.Closer, error) {
		// By the ID read with the format, with a BPF link: faster (see
		// perf.AttachTracepoint). Where that fails, or on a kernel without
		// perf links, cilium/ebpf attaches, as it always did: its errors
		// are the ones to report, and it falls back to the ioctl.
		if t.TracepointID != 0 {
			if l, err := perf.AttachTracepoint(t.TracepointID, prog, cookie); err == nil {
				return l, nil
			}
		}
		return link.Tracepoint(t.Category, t.Event, prog, &link.TracepointOptions{Cookie: cookie})
	}
	return p
}

// defaultStrSize is the buffer bpftrace uses for strings read from memory.
const defaultStrSize = 64

// ArgsType converts a tracepoint's format into the struct type of `args`.
// Pointers of the syscalls category point into user memory; every other
// pointer is a kernel pointer.
func ArgsType(f *tracefs.Format) *types.Type {
	as := types.Kernel
	if f.Category == "syscalls" {
		as = types.User
	}
	t := &types.Type{Kind: types.Struct, Name: "struct " + f.Category + "_" + f.Name + "_args", Size: f.Size}
	for _, fld := range f.Fields {
		ft := fieldType(fld, as)
		if ft == nil {
			// Keep the field, so that using it says "not supported yet"
			// rather than "no such field".
			ft = &types.Type{Kind: types.Void, Name: fld.Type}
		}
		t.Fields = append(t.Fields, types.Field{
			Name:    fld.Name,
			Type:    ft,
			Offset:  fld.Offset,
			DataLoc: fld.DataLoc,
		})
	}
	return t
}

func fieldType(f tracefs.Field, as types.AddrSpace) *types.Type {
	base := strings.TrimSpace(strings.TrimPrefix(f.Type, "const "))
	// Only plain (or signed) char arrays are strings; unsigned char arrays
	// are bytes.
	elem := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(base, "__data_loc "), "[]"))
	isChar := elem == "char" || elem == "signed char"
	switch {
	case f.DataLoc:
		if isChar {
			return types.NewString(defaultStrSize)
		}
		return nil // dynamic arrays of other types: not supported yet
	case f.ArrayLen > 0:
		if isChar {
			return types.NewString(f.ArrayLen)
		}
		elem := f.Size / f.ArrayLen
		if elem != 1 && elem != 2 && elem != 4 && elem != 8 {
			return nil
		}
		return &types.Type{Kind: types.Array, Len: f.ArrayLen, Elem: types.NewInt(elem, f.Signed)}
	case f.Pointer || strings.Contains(f.Type, "*"):
		var elem *types.Type
		if isChar || strings.HasSuffix(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(base), "*")), "char") {
			elem = types.NewInt(1, true)
		} else {
			elem = types.NewInt(1, false)
		}
		p := types.NewPointer(elem, as)
		// Keep the C spelling: a struct pointer's target type comes from
		// the kernel's BTF when the script looks through it.
		p.Name = f.Type
		return p
	case f.Size == 1 || f.Size == 2 || f.Size == 4 || f.Size == 8:
		return types.NewInt(f.Size, f.Signed)
	}
	return nil
}
