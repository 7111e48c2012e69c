package btf

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/lang/types"
)

// maxDepth bounds walks through chains of typedefs and qualifiers, which
// well-formed BTF never makes long.
const maxDepth = 32

// skipAliases skips typedefs and qualifiers (const, volatile, restrict,
// type tags). It returns the type they name and the innermost typedef's
// name, which names an anonymous struct (typedef struct { ... } atomic_t).
func skipAliases(t btf.Type) (btf.Type, string) {
	typedef := ""
	for range maxDepth {
		switch u := t.(type) {
		case *btf.Typedef:
			typedef, t = u.Name, u.Type
		case *btf.Const:
			t = u.Type
		case *btf.Volatile:
			t = u.Type
		case *btf.Restrict:
			t = u.Type
		case *btf.TypeTag:
			t = u.Type
		default:
			return t, typedef
		}
	}
	return t, typedef
}

// convert returns the gotrace type of t, converting it on first use. Each
// BTF type is converted once, so recursive types share their *types.Type,
// and struct fields are converted only when asked for (FieldList), so
// converting a struct converts nothing else. k.mu must be held.
func (k *Kernel) convert(t btf.Type) *types.Type {
	t, typedef := skipAliases(t)
	if r, ok := k.conv[t]; ok {
		return r
	}
	r := k.convertNew(t, typedef)
	if k.conv == nil {
		k.conv = make(map[btf.Type]*types.Type)
	}
	k.conv[t] = r
	return r
}

func (k *Kernel) convertNew(t btf.Type, typedef string) *types.Type {
	switch u := t.(type) {
	case *btf.Void:
		return &types.Type{Kind: types.Void, Name: "void"}
	case *btf.Int:
		if u.Encoding&btf.Bool != 0 && u.Size == 1 {
			return types.NewInt(1, false)
		}
		if isIntSize(u.Size) {
			return types.NewInt(int(u.Size), u.Encoding&btf.Signed != 0)
		}
	case *btf.Enum:
		if isIntSize(u.Size) {
			return types.NewInt(int(u.Size), u.Signed)
		}
	case *btf.Pointer:
		if fp, ok := btf.QualifiedType(u.Target).(*btf.FuncProto); ok {
			// A function pointer is an address a script can print
			// or pass to ksym(), not something it can dereference.
			return types.NewPointer(&types.Type{Kind: types.Void, Name: spell(fp)}, types.Kernel)
		}
		return types.NewPointer(k.convert(u.Target), types.Kernel)
	case *btf.Array:
		elem := k.convert(u.Type)
		if u.Nelems == 0 {
			// A flexible array member: where it starts, nothing more.
			return &types.Type{Kind: types.Array, Elem: elem}
		}
		if isChar(u.Type) {
			return types.NewString(int(u.Nelems))
		}
		if elem.Kind == types.Void {
			break
		}
		size, err := btf.Sizeof(u)
		if err != nil {
			break
		}
		return &types.Type{Kind: types.Array, Elem: elem, Len: int(u.Nelems), Size: size}
	case *btf.Struct:
		return k.structType(u, "struct", u.Name, u.Size, u.Members, typedef)
	case *btf.Union:
		return k.structType(u, "union", u.Name, u.Size, u.Members, typedef)
	case *btf.Fwd:
		// A struct declared here and defined elsewhere in the BTF.
		if def := k.definition(u); def != nil {
			return k.convert(def)
		}
		return &types.Type{Kind: types.Struct, Name: u.Kind.String() + " " + u.Name}
	}
	return &types.Type{Kind: types.Void, Name: spell(t)}
}

func isIntSize(n uint32) bool { return n == 1 || n == 2 || n == 4 || n == 8 }

// isChar reports whether an array of t is a string: t is declared char or
// signed char, as for tracepoint fields; unsigned char and u8 arrays are
// bytes.
func isChar(t btf.Type) bool {
	i, ok := btf.QualifiedType(t).(*btf.Int)
	return ok && i.Size == 1 && (i.Name == "char" || i.Name == "signed char")
}

// definition finds the struct or union a forward declaration declares.
func (k *Kernel) definition(f *btf.Fwd) btf.Type {
	cands, err := k.spec.AnyTypesByName(f.Name)
	if err != nil {
		return nil
	}
	for _, c := range cands {
		switch c.(type) {
		case *btf.Struct:
			if f.Kind == btf.FwdStruct {
				return c
			}
		case *btf.Union:
			if f.Kind == btf.FwdUnion {
				return c
			}
		}
	}
	return nil
}

// structType makes the lazy gotrace type of a struct or union. An anonymous
// one is named after the typedef that names it, or else after its BTF type
// ID, which keeps distinct anonymous structs distinct for types.Equal.
func (k *Kernel) structType(t btf.Type, keyword, name string, size uint32, members []btf.Member, typedef string) *types.Type {
	full := keyword + " " + name
	if name == "" {
		if typedef != "" {
			full = typedef
		} else {
			id, _ := k.spec.TypeID(t)
			full = fmt.Sprintf("%s (anonymous #%d)", keyword, id)
		}
	}
	return types.NewLazyStruct(full, int(size), func() []types.Field {
		k.mu.Lock()
		defer k.mu.Unlock()
		var fields []types.Field
		k.addFields(&fields, make(map[string]bool), members, 0, int(size)*8)
		return fields
	})
}

// addFields appends the fields of members, which start base bits into a
// struct of limit bits. Members of anonymous structs and unions become
// fields of the struct itself, as C lets a program name them.
func (k *Kernel) addFields(fields *[]types.Field, seen map[string]bool, members []btf.Member, base, limit int) {
	for _, m := range members {
		off := base + int(m.Offset)
		if m.Name == "" {
			switch u := btf.UnderlyingType(m.Type).(type) {
			case *btf.Struct:
				k.addFields(fields, seen, u.Members, off, limit)
			case *btf.Union:
				k.addFields(fields, seen, u.Members, off, limit)
			}
			// Anything else unnamed is a padding bitfield (int :3).
			continue
		}
		if seen[m.Name] {
			continue
		}
		seen[m.Name] = true
		f := types.Field{Name: m.Name, Type: k.convert(m.Type), Offset: off / 8}
		if m.BitfieldSize > 0 {
			f = bitfield(f, off, int(m.BitfieldSize), limit)
		}
		*fields = append(*fields, f)
	}
}

// bitfield places a bitfield of bits bits at bit off of a struct of limit
// bits: Offset is the byte offset of an integer of f.Type.Size bytes, and
// BitOffset the position of the field's lowest bit in it. Normally that
// integer is the field's declared storage unit, aligned to its size; in a
// packed struct, where the field may straddle units, it is the smallest
// integer, starting at the byte that holds the field's first bit, that
// holds it all.
func bitfield(f types.Field, off, bits, limit int) types.Field {
	t := f.Type
	if t.Kind == types.Int {
		if placed, ok := types.PlaceBitfield(f, off, bits, limit); ok {
			return placed
		}
	}
	f.Type = &types.Type{Kind: types.Void, Name: fmt.Sprintf("%s:%d", t, bits)}
	return f
}

// spell writes t the way C declares it, for types gotrace cannot use.
func spell(t btf.Type) string {
	switch u := t.(type) {
	case *btf.Void:
		return "void"
	case *btf.Int:
		return u.Name
	case *btf.Float:
		return u.Name
	case *btf.Typedef:
		return u.Name
	case *btf.Struct:
		return tag("struct", u.Name)
	case *btf.Union:
		return tag("union", u.Name)
	case *btf.Enum:
		return tag("enum", u.Name)
	case *btf.Fwd:
		return tag(u.Kind.String(), u.Name)
	case *btf.Const:
		return "const " + spell(u.Type)
	case *btf.Volatile:
		return "volatile " + spell(u.Type)
	case *btf.Restrict:
		return spell(u.Type)
	case *btf.TypeTag:
		return spell(u.Type)
	case *btf.Pointer:
		if fp, ok := btf.QualifiedType(u.Target).(*btf.FuncProto); ok {
			return spell(fp.Return) + " (*)(" + params(fp) + ")"
		}
		return spell(u.Target) + " *"
	case *btf.Array:
		return fmt.Sprintf("%s[%d]", spell(u.Type), u.Nelems)
	case *btf.FuncProto:
		return spell(u.Return) + " (" + params(u) + ")"
	case *btf.Func:
		return spell(u.Type)
	}
	return fmt.Sprint(t)
}

func tag(keyword, name string) string {
	if name == "" {
		name = "(anonymous)"
	}
	return keyword + " " + name
}

func params(fp *btf.FuncProto) string {
	if len(fp.Params) == 0 {
		return "void"
	}
	ps := make([]string, len(fp.Params))
	for i, p := range fp.Params {
		if _, ok := p.Type.(*btf.Void); ok && i == len(fp.Params)-1 {
			ps[i] = "..."
		} else {
			ps[i] = spell(p.Type)
		}
	}
	return strings.Join(ps, ", ")
}
