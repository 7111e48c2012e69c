package cdecl

import (
	"fmt"
	"math"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// maxSize bounds the size of a type, far above anything a probe can read.
const maxSize = 1 << 30

// maxAlign is GCC's __BIGGEST_ALIGNMENT__ on x86_64: the alignment a bare
// aligned attribute asks for.
const maxAlign = 16

// ctype is a C type during the layout.
type ctype struct {
	t       *types.Type
	name    string      // the type as C writes it, for messages
	def     *definition // a script struct, union or enum: complete once laid out
	char    bool        // char or signed char itself: an array of it is a string
	boolean bool        // _Bool: a bitfield of it is at most 1 bit wide
	fn      bool        // a function type: only pointers to it are members
	flex    bool        // a flexible array ([] or [0])
	noValue string      // why a member cannot have this type, e.g. "type void"
}

// voidType is gotrace's type for what a script cannot read: void itself,
// floating-point types, functions. Pointers to it are fine.
func voidType(name string) *types.Type { return &types.Type{Kind: types.Void, Name: name} }

// specType returns the type named by a member's specifiers, laying out a
// struct, union or enum defined in place.
func (c *converter) specType(s *spec) (ctype, bool) {
	switch s.kind {
	case specBase:
		b := s.base
		switch b.kind {
		case baseVoid:
			return ctype{t: voidType("void"), name: "void", noValue: "type void"}, true
		case baseFloat:
			return ctype{t: voidType(b.name), name: b.name, noValue: "floating-point type " + b.name}, true
		}
		return ctype{t: types.NewInt(b.size, b.signed), name: b.name, char: b.char, boolean: b.boolean}, true
	case specName:
		t, err := c.lookup(s.name)
		if err == nil {
			return kernelType(t, s.name), true
		}
		if size, signed, ok := fixedTypedef(s.name); ok {
			return ctype{t: types.NewInt(size, signed), name: s.name}, true
		}
		c.unknown(s.name, s.at, err)
		return ctype{}, false
	case specTag:
		if d, ok := c.defs[s.name]; ok {
			return ctype{t: d.t, name: s.name, def: d}, true
		}
		t, err := c.lookup(s.name)
		if err != nil {
			c.unknown(s.name, s.at, err)
			return ctype{}, false
		}
		return kernelType(t, s.name), true
	case specRecord:
		return ctype{t: c.layoutRecord(s.rec), name: s.name, def: s.rec.def}, true
	case specEnum:
		return ctype{t: c.layoutEnum(s.enum), name: s.name, def: s.enum.def}, true
	}
	return ctype{}, false
}

// lookup asks resolve for a kernel type, once per name.
func (c *converter) lookup(name string) (*types.Type, error) {
	if r, ok := c.resolved[name]; ok {
		return r.t, r.err
	}
	var r resolved
	if c.resolve == nil {
		r.err = noKernel{}
	} else {
		r.t, r.err = c.resolve(name)
		if r.err == nil && r.t == nil {
			r.err = fmt.Errorf("no type %s", name)
		}
	}
	c.resolved[name] = r
	return r.t, r.err
}

// noKernel is lookup's error when Types has no resolve function.
type noKernel struct{}

func (noKernel) Error() string { return "kernel types are not available" }

// unknown reports a type name that is neither the script's nor the kernel's.
func (c *converter) unknown(name string, at ast.Pos, err error) {
	e := c.errorf(at, "unknown type %s", name)
	if _, none := err.(noKernel); err != nil && !none {
		e.Hint = err.Error()
	}
}

// kernelType describes a type resolve returned.
func kernelType(t *types.Type, name string) ctype {
	ct := ctype{t: t, name: name}
	if t.Kind == types.Void {
		if t.Name == "" || t.Name == "void" {
			ct.noValue = "type void"
		} else {
			ct.noValue = fmt.Sprintf("type %s, which gotrace cannot read", t.Name)
		}
	}
	return ct
}

// derive applies a declarator's pointers, arrays and function suffixes to
// the specifiers' type. subject names the member in errors.
func (c *converter) derive(ct ctype, d *declarator, subject string) (ctype, bool) {
	for i, o := range d.ops {
		switch o.kind {
		case opPointer:
			elem := ct.t
			if ct.fn {
				elem = voidType(ct.name)
			}
			ct = ctype{t: types.NewPointer(elem, types.Kernel), name: ct.name + " *"}
		case opArray:
			if ct.fn {
				c.errorf(d.at, "%s is an array of functions", subject).Hint = "use an array of pointers to functions"
				return ctype{}, false
			}
			if ct.flex {
				c.errorf(d.at, "%s is an array of arrays of unknown size", subject)
				return ctype{}, false
			}
			if !c.complete(ct, subject, d.at) {
				return ctype{}, false
			}
			n := int64(0)
			if o.size != nil {
				v, ok := c.eval(o.size)
				if !ok {
					return ctype{}, false
				}
				if v < 0 {
					c.errorf(o.size.pos(), "size of array %s is negative (%d)", d.name, v)
					return ctype{}, false
				}
				if ct.t.Size > 0 && v > maxSize/int64(ct.t.Size) || v > maxSize {
					c.errorf(o.size.pos(), "array %s is too large", d.name)
					return ctype{}, false
				}
				n = v
			}
			elem, name := ct.t, fmt.Sprintf("%s[%d]", ct.name, n)
			switch {
			case n == 0:
				// A flexible array member: where it starts, nothing more.
				ct = ctype{t: &types.Type{Kind: types.Array, Elem: elem}, name: name, flex: true}
			case ct.char && i == 0:
				ct = ctype{t: types.NewString(int(n)), name: name}
			default:
				ct = ctype{t: &types.Type{Kind: types.Array, Elem: elem, Len: int(n), Size: int(n) * elem.Size}, name: name}
			}
		case opFunc:
			if ct.fn || i > 0 && d.ops[i-1].kind == opArray {
				c.errorf(d.at, "%s is a function returning a function or an array", subject)
				return ctype{}, false
			}
			ct = ctype{t: ct.t, fn: true, name: ct.name + " (" + o.text + ")"}
		}
	}
	return ct, true
}

// complete reports whether a member (or an array element) can have type ct:
// a complete type with a size. It reports why not.
func (c *converter) complete(ct ctype, subject string, at ast.Pos) bool {
	switch {
	case ct.fn:
		c.errorf(at, "%s has function type %s", subject, ct.name).Hint = "use a pointer to the function"
		return false
	case ct.noValue != "":
		e := c.errorf(at, "%s has %s", subject, ct.noValue)
		if ct.t.Name != "void" {
			e.Hint = "a pointer to it is fine"
		}
		return false
	case ct.flex:
		c.errorf(at, "%s has incomplete type %s", subject, ct.name)
		return false
	case ct.def != nil && ct.def.state == pending:
		c.errorf(at, "%s has incomplete type %s", subject, ct.name).Hint =
			fmt.Sprintf("%s is defined later, at %s: define it first, or use a pointer", ct.def.key, ct.def.at)
		return false
	case ct.def != nil && ct.def.state == busy:
		c.errorf(at, "%s has incomplete type %s", subject, ct.name).Hint =
			fmt.Sprintf("%s cannot contain itself: use a pointer", ct.def.key)
		return false
	}
	return true
}

// alignOf is the C alignment of t. The script's structs remember theirs;
// a kernel struct's is its largest member's, or 1 if its members show that
// it is packed.
func (c *converter) alignOf(t *types.Type) int {
	switch t.Kind {
	case types.Int, types.Pointer, types.Special:
		return max(t.Size, 1)
	case types.Array:
		if t.Elem != nil {
			return c.alignOf(t.Elem)
		}
	case types.Struct:
		if a, ok := c.aligns[t]; ok {
			return a
		}
		c.aligns[t] = 1 // a guard: a struct cannot contain itself
		a, packed := 1, false
		for _, f := range t.FieldList() {
			fa := c.alignOf(f.Type)
			if f.BitSize == 0 && f.Offset%fa != 0 {
				packed = true
			}
			a = max(a, fa)
		}
		if packed || t.Size%a != 0 {
			a = 1
		}
		c.aligns[t] = a
		return a
	}
	return 1
}

// aligned applies aligned attributes to an alignment.
func (c *converter) aligned(a int, lists ...attrs) int {
	for _, l := range lists {
		for _, al := range l.align {
			n := int64(maxAlign)
			if al.n != nil {
				v, ok := c.eval(al.n)
				if !ok {
					continue
				}
				if v <= 0 || v&(v-1) != 0 || v > 1<<28 {
					c.errorf(al.n.pos(), "requested alignment %d is not a positive power of two", v)
					continue
				}
				n = v
			}
			a = max(a, int(n))
		}
	}
	return a
}

// recordLayout is the state of a struct's or union's layout.
type recordLayout struct {
	c         *converter
	union     bool
	fields    []types.Field
	poss      []ast.Pos // where each field was declared
	seen      map[string]ast.Pos
	bitfields []pendingBitfield // placed once the size is known
	bit       int               // struct: the first free bit
	size      int               // union: the largest member's size
	align     int
}

// pendingBitfield is a bitfield whose storage unit is chosen once the
// struct's size is known.
type pendingBitfield struct {
	index     int // in fields
	off, bits int
}

// add appends a field unless its name is taken.
func (l *recordLayout) add(f types.Field, at ast.Pos) bool {
	if prev, ok := l.seen[f.Name]; ok {
		l.c.errorf(at, "duplicate member %s", f.Name).Hint = fmt.Sprintf("the first %s is at %s", f.Name, prev)
		return false
	}
	l.seen[f.Name] = at
	l.fields = append(l.fields, f)
	l.poss = append(l.poss, at)
	return true
}

// place allocates size bytes aligned to a and returns their offset.
func (l *recordLayout) place(size, a int) int {
	l.align = max(l.align, a)
	if l.union {
		l.size = max(l.size, size)
		return 0
	}
	off := alignUp((l.bit+7)/8, a)
	l.bit = (off + size) * 8
	return off
}

// layoutRecord computes the fields, size and alignment of a struct or union
// and returns its type.
func (c *converter) layoutRecord(r *record) *types.Type {
	t := &types.Type{Kind: types.Struct, Name: fmt.Sprintf("%s (anonymous at %s)", r.kind, r.at)}
	if r.tag != "" {
		t.Name = r.kind + " " + r.tag
	}
	if r.def != nil {
		t = r.def.t
		r.def.state = busy
		defer func() { r.def.state = done }()
	}
	r.t = t
	l := &recordLayout{c: c, union: r.kind == "union", seen: map[string]ast.Pos{}, align: 1}
	for mi, m := range r.members {
		base, ok := c.specType(m.spec)
		if !ok {
			continue
		}
		packed := r.attrs.packed || m.spec.attrs.packed
		if len(m.decls) == 0 {
			switch {
			case m.spec.kind == specRecord && m.spec.rec.tag == "":
				// An anonymous struct or union: its members are ours.
				a := 1
				if !packed {
					a = c.alignOf(base.t)
				}
				off := l.place(base.t.Size, c.aligned(a, m.spec.attrs))
				names := c.names[base.t]
				for i, f := range base.t.Fields {
					f.Offset += off
					l.add(f, names[i])
				}
			case !m.bad && (m.spec.kind == specBase || m.spec.kind == specName):
				c.errorf(m.spec.at, "declaration declares no member").Hint = "add a member name"
			}
			// Otherwise a nested definition, or a declaration of a tag.
			continue
		}
		for di, d := range m.decls {
			subject := "member " + d.name
			if d.name == "" {
				subject = "bitfield"
			}
			ct, ok := c.derive(base, d, subject)
			if !ok {
				continue
			}
			packed := packed || d.attrs.packed
			if d.bits != nil {
				l.bitfield(d, ct, subject, packed)
				continue
			}
			if ct.flex {
				last := mi == len(r.members)-1 && di == len(m.decls)-1
				switch {
				case l.union:
					c.errorf(d.at, "flexible array member %s in a union", d.name)
					continue
				case !last:
					c.errorf(d.at, "flexible array member %s is not the last member", d.name)
					continue
				}
			} else if !c.complete(ct, subject, d.at) {
				continue
			}
			a := 1
			if !packed {
				a = c.alignOf(ct.t)
			}
			off := l.place(ct.t.Size, c.aligned(a, m.spec.attrs, d.attrs))
			l.add(types.Field{Name: d.name, Type: ct.t, Offset: off}, d.at)
		}
	}
	// A definition in a member declaration that had a syntax error was
	// skipped with it; lay it out all the same.
	for _, n := range r.nested {
		c.layout(n)
	}
	align := c.aligned(l.align, r.attrs)
	size := l.size
	if !l.union {
		size = (l.bit + 7) / 8
	}
	size = alignUp(size, align)
	if size > maxSize {
		c.errorf(r.at, "%s is too large (%d bytes)", tagName(r.kind, r.tag), size)
		size = 0
	}
	for _, b := range l.bitfields {
		l.fields[b.index] = bitfield(l.fields[b.index], b.off, b.bits, size*8)
	}
	t.Size, t.Fields = size, l.fields
	c.aligns[t] = align
	c.names[t] = l.poss
	return t
}

// bitfield places a bitfield as GCC does on x86_64: in the storage unit of
// its declared type where the previous bits left off, or in the next unit
// when it would straddle two (unless packed). A zero-width bitfield moves
// to the next unit. Named bitfields align the struct to their type;
// unnamed ones only take space.
func (l *recordLayout) bitfield(d *declarator, ct ctype, subject string, packed bool) {
	c := l.c
	if ct.t.Kind != types.Int {
		c.errorf(d.at, "%s has non-integer type %s", subject, ct.name).Hint = "a bitfield must have an integer or enum type"
		return
	}
	if !c.complete(ct, subject, d.at) {
		return
	}
	w, ok := c.eval(d.bits)
	if !ok {
		return
	}
	unitBits := ct.t.Size * 8
	limit := unitBits
	if ct.boolean {
		limit = 1
	}
	switch {
	case w < 0:
		c.errorf(d.bits.pos(), "%s has negative width %d", subject, w)
		return
	case w > int64(limit):
		unit := "bits"
		if limit == 1 {
			unit = "bit"
		}
		c.errorf(d.bits.pos(), "bitfield width %d exceeds the size of %s (%d %s)", w, ct.name, limit, unit)
		return
	case w == 0:
		if d.name != "" {
			c.errorf(d.bits.pos(), "zero-width bitfield %s must be unnamed", d.name)
		} else if !l.union {
			l.bit = alignUp(l.bit, unitBits)
		}
		return
	}
	bits := int(w)
	a := ct.t.Size
	if packed {
		a = 1
	}
	off := 0
	if l.union {
		l.size = max(l.size, (bits+7)/8)
	} else {
		if !packed && l.bit/unitBits != (l.bit+bits-1)/unitBits {
			l.bit = alignUp(l.bit, unitBits)
		}
		off = l.bit
		l.bit += bits
	}
	if d.name != "" {
		l.align = max(l.align, a)
		if l.add(types.Field{Name: d.name, Type: ct.t, BitSize: bits}, d.at) {
			l.bitfields = append(l.bitfields, pendingBitfield{index: len(l.fields) - 1, off: off, bits: bits})
		}
	}
}

// bitfield places a bitfield of bits bits at bit off of a struct of limit
// bits, the way lang/btf does: Offset is the byte offset of an integer of
// f.Type.Size bytes, and BitOffset the position of the field's lowest bit
// in it. Normally that integer is the field's declared storage unit,
// aligned to its size; in a packed struct, where the field may straddle
// units, it is the smallest integer, starting at the byte that holds the
// field's first bit, that holds it all.
func bitfield(f types.Field, off, bits, limit int) types.Field {
	// A bitfield is at most 64 bits wide and starts in its first byte, so
	// it spans at most 9 bytes; GCC never makes that of a 64-bit field,
	// so placing it cannot fail.
	placed, _ := types.PlaceBitfield(f, off, bits, limit)
	return placed
}

// layoutEnum computes an enum's constants and its type.
func (c *converter) layoutEnum(e *enumDef) *types.Type {
	t := types.NewInt(4, false)
	if e.def != nil {
		t = e.def.t
		e.def.state = busy
		defer func() { e.def.state = done }()
	}
	e.t = t
	if len(e.consts) == 0 {
		c.errorf(e.at, "%s has no constants", tagName("enum", e.tag))
	}
	var (
		next     int64
		overflow bool
		lo, hi   int64
	)
	for i, k := range e.consts {
		v := next
		if k.value != nil {
			if x, ok := c.eval(k.value); ok {
				v = x
			}
		} else if overflow {
			c.errorf(k.at, "enum constant %s overflows", k.name)
		}
		if prev, dup := c.enumAt[k.name]; dup {
			c.errorf(k.at, "duplicate enum constant %s", k.name).Hint = fmt.Sprintf("the first %s is at %s", k.name, prev)
		} else {
			c.res.Enums[k.name] = v
			c.enumAt[k.name] = k.at
		}
		if i == 0 {
			lo, hi = v, v
		}
		lo, hi = min(lo, v), max(hi, v)
		overflow = v == math.MaxInt64
		next = v + 1
	}
	// GCC's choice: unsigned int, or int if a value is negative, or a
	// 64-bit type when the values do not fit.
	t.Signed = lo < 0
	t.Size = 4
	if t.Signed && (lo < math.MinInt32 || hi > math.MaxInt32) || !t.Signed && hi > math.MaxUint32 {
		t.Size = 8
	}
	return t
}

func alignUp(n, a int) int {
	if a <= 1 {
		return n
	}
	return (n + a - 1) / a * a
}
