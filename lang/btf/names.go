package btf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/lang/diag"
)

// nameKind is a C name space: struct tags, union tags, enum tags, ordinary
// identifiers (typedefs).
type nameKind int

const (
	kindStruct nameKind = iota
	kindUnion
	kindEnum
	kindTypedef
	numKinds
)

// word is the keyword that introduces a tag of this kind, "" for typedefs.
func (k nameKind) word() string {
	switch k {
	case kindStruct:
		return "struct"
	case kindUnion:
		return "union"
	case kindEnum:
		return "enum"
	}
	return ""
}

// kindWord is the keyword of a struct, union or enum type.
func kindWord(t btf.Type) string {
	switch t.(type) {
	case *btf.Union:
		return "union"
	case *btf.Enum:
		return "enum"
	}
	return "struct"
}

// nameIndex lists the names a BTF defines, by name space, sorted, without
// duplicates. It exists for "did you mean" suggestions.
type nameIndex struct {
	names [numKinds][]string
}

func (idx *nameIndex) add(kind nameKind, name string) {
	if name != "" {
		idx.names[kind] = append(idx.names[kind], name)
	}
}

func (idx *nameIndex) finish() *nameIndex {
	for i := range idx.names {
		slices.Sort(idx.names[i])
		idx.names[i] = slices.Compact(idx.names[i])
	}
	return idx
}

// Raw BTF kinds (include/uapi/linux/btf.h).
const (
	rawInt       = 1
	rawArray     = 3
	rawStruct    = 4
	rawUnion     = 5
	rawEnum      = 6
	rawTypedef   = 8
	rawFunc      = 12
	rawFuncProto = 13
	rawVar       = 14
	rawDatasec   = 15
	rawDeclTag   = 17
	rawEnum64    = 19
	rawMaxKind   = 19
)

var errBadBTF = errors.New("malformed BTF")

// scanNames lists the names in raw BTF by walking its type headers, without
// decoding the types: a few milliseconds for vmlinux, where decoding every
// type takes hundreds and some 30 MB.
func scanNames(raw []byte) (*nameIndex, error) {
	idx := &nameIndex{}
	err := walkRaw(raw, func(kind int, name string) {
		switch kind {
		case rawStruct:
			idx.add(kindStruct, name)
		case rawUnion:
			idx.add(kindUnion, name)
		case rawEnum, rawEnum64:
			idx.add(kindEnum, name)
		case rawTypedef:
			idx.add(kindTypedef, name)
		}
	})
	if err != nil {
		return nil, err
	}
	return idx.finish(), nil
}

// walkRaw calls fn with the kind and name of every type in raw BTF, in
// type ID order.
func walkRaw(raw []byte, fn func(kind int, name string)) error {
	if len(raw) < 24 {
		return errBadBTF
	}
	var bo binary.ByteOrder = binary.LittleEndian
	switch {
	case bo.Uint16(raw) == 0xeb9f:
	case binary.BigEndian.Uint16(raw) == 0xeb9f:
		bo = binary.BigEndian
	default:
		return errBadBTF
	}
	hdrLen := uint64(bo.Uint32(raw[4:]))
	typeOff, typeLen := hdrLen+uint64(bo.Uint32(raw[8:])), uint64(bo.Uint32(raw[12:]))
	strOff, strLen := hdrLen+uint64(bo.Uint32(raw[16:])), uint64(bo.Uint32(raw[20:]))
	if typeOff+typeLen > uint64(len(raw)) || strOff+strLen > uint64(len(raw)) {
		return errBadBTF
	}
	types, strs := raw[typeOff:typeOff+typeLen], raw[strOff:strOff+strLen]
	str := func(off uint32) string {
		if uint64(off) >= uint64(len(strs)) {
			return ""
		}
		s := strs[off:]
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		return string(s)
	}
	for len(types) > 0 {
		if len(types) < 12 {
			return errBadBTF
		}
		nameOff, info := bo.Uint32(types), bo.Uint32(types[4:])
		kind, vlen := int(info>>24&0x1f), int(info&0xffff)
		n := 12
		switch kind {
		case rawInt, rawVar, rawDeclTag:
			n += 4
		case rawArray:
			n += 12
		case rawStruct, rawUnion, rawDatasec, rawEnum64:
			n += 12 * vlen
		case rawEnum, rawFuncProto:
			n += 8 * vlen
		default:
			if kind == 0 || kind > rawMaxKind {
				return errBadBTF
			}
		}
		if n > len(types) {
			return errBadBTF
		}
		fn(kind, str(nameOff))
		types = types[n:]
	}
	return nil
}

// specNames lists the names in spec by decoding all of its types.
func specNames(spec *btf.Spec) *nameIndex {
	idx := &nameIndex{}
	for t, err := range spec.All() {
		if err != nil {
			break
		}
		switch t := t.(type) {
		case *btf.Struct:
			idx.add(kindStruct, t.Name)
		case *btf.Union:
			idx.add(kindUnion, t.Name)
		case *btf.Enum:
			idx.add(kindEnum, t.Name)
		case *btf.Typedef:
			idx.add(kindTypedef, t.Name)
		}
	}
	return idx.finish()
}

// candidate is a suggested name and its name space.
type candidate struct {
	name string
	kind nameKind
	dist int
	rank int // of kind among the kinds asked for
}

// closest returns up to n names of the given kinds that look like name: a
// small edit distance (a third of the name's length, at least 1), or
// containing it, ignoring case. Closest first, and among equally close
// names, those of the kinds listed first.
func closest(name string, idx *nameIndex, kinds []nameKind, n int) []candidate {
	lname := strings.ToLower(name)
	limit := max(1, len(name)/3)
	var out []candidate
	for rank, kind := range kinds {
		for _, c := range idx.names[kind] {
			lc := strings.ToLower(c)
			contains := len(lname) >= 4 && strings.Contains(lc, lname)
			if !contains && abs(len(lc)-len(lname)) > limit {
				continue
			}
			d := diag.EditDistance(lname, lc)
			if d <= limit || contains {
				out = append(out, candidate{c, kind, d, rank})
			}
		}
	}
	slices.SortFunc(out, func(a, b candidate) int {
		if a.dist != b.dist {
			return a.dist - b.dist
		}
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return strings.Compare(a.name, b.name)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
