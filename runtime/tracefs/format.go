package tracefs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Format is the record layout of one tracepoint, as described by
// events/CATEGORY/NAME/format. A BPF program attached to the tracepoint
// receives a pointer to such a record.
type Format struct {
	Category string // set by FS.Format; empty from ParseFormat
	Name     string
	ID       uint64
	// Fields are the tracepoint's own fields in file order, without the
	// common_* header fields.
	Fields []Field
	// Common are the common_* fields every record starts with.
	Common []Field
	// Size is the size of the fixed part of the record: the largest
	// Offset+Size over all fields. Dynamic (__data_loc) data lies beyond it.
	Size int
	// PrintFmt is the text after "print fmt: ", the kernel's own printf
	// format and arguments for the record. It may span several lines when
	// the format string contains a newline.
	PrintFmt string
}

// Field is one field of a tracepoint record.
type Field struct {
	Name string
	// Type is the C type as the kernel wrote it, with array dimensions
	// moved to ArrayLen: "const char *", "char" (for "char comm[16]"),
	// "unsigned long", "__data_loc char[]". Runs of blanks are collapsed to
	// one space.
	Type   string
	Offset int
	Size   int // in bytes; for arrays the whole array, for __data_loc 4
	Signed bool
	// ArrayLen is N for a fixed array "T name[N]" (the product of the
	// dimensions for "T name[N][M]"), 0 otherwise.
	ArrayLen int
	// FlexArray is set for a trailing array of unknown length, "T name[]"
	// (Size is 0).
	FlexArray bool
	// DataLoc is set for "__data_loc T[] name": the 4-byte field holds the
	// offset of the data from the start of the record in its low 16 bits
	// and its length in the high 16 bits.
	DataLoc bool
	// RelLoc is set for "__rel_loc T[] name" (Linux 5.19+): like DataLoc,
	// but the offset is relative to the end of this field.
	RelLoc bool
	// Pointer is set when the type is a pointer ("const char *"). For an
	// array of pointers, ArrayLen is also set.
	Pointer bool
}

// ElemType returns the element type of a __data_loc/__rel_loc field
// ("char" for "__data_loc char[]"), and Type unchanged for other fields.
func (f Field) ElemType() string {
	t := f.Type
	if f.DataLoc || f.RelLoc {
		_, t, _ = strings.Cut(t, " ")
		t = strings.TrimSuffix(strings.TrimSpace(t), "[]")
	}
	return strings.TrimSpace(t)
}

// Field returns the field called name, searching the tracepoint's own fields
// and then the common ones.
func (f *Format) Field(name string) (Field, bool) {
	for _, list := range [][]Field{f.Fields, f.Common} {
		for _, fl := range list {
			if fl.Name == name {
				return fl, true
			}
		}
	}
	return Field{}, false
}

// Format reads and parses events/CATEGORY/NAME/format.
func (fs *FS) Format(category, name string) (*Format, error) {
	p, err := fs.eventFile(category, name, "format")
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("tracepoint %s:%s not found (no %s)", category, name, p)
	}
	if err != nil {
		return nil, fmt.Errorf("tracepoint %s:%s: %w", category, name, err)
	}
	defer f.Close()
	format, err := ParseFormat(f)
	if err != nil {
		return nil, fmt.Errorf("tracepoint %s:%s: %w", category, name, err)
	}
	format.Category = category
	return format, nil
}

// ID returns the tracepoint's numeric ID (events/CATEGORY/NAME/id), the
// config of a PERF_TYPE_TRACEPOINT perf event.
func (fs *FS) ID(category, name string) (uint64, error) {
	p, err := fs.eventFile(category, name, "id")
	if err != nil {
		return 0, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("tracepoint %s:%s not found (no %s)", category, name, p)
	}
	if err != nil {
		return 0, fmt.Errorf("tracepoint %s:%s: %w", category, name, err)
	}
	id, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("tracepoint %s:%s: bad id file %s: %w", category, name, p, err)
	}
	return id, nil
}

// ParseFormat parses the contents of a tracepoint format file:
//
//	name: sched_switch
//	ID: 372
//	format:
//		field:unsigned short common_type;	offset:0;	size:2;	signed:0;
//		...
//		field:char prev_comm[16];	offset:8;	size:16;	signed:0;
//
//	print fmt: "prev_comm=%s ...", REC->prev_comm, ...
//
// A "signed:" attribute is optional (kernels before 3.x lacked it).
func ParseFormat(r io.Reader) (*Format, error) {
	var (
		f               Format
		haveName, hasID bool
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024) // print fmt lines can be long
	inPrintFmt := false
	for n := 1; sc.Scan(); n++ {
		if inPrintFmt {
			// A format string with an embedded newline continues the
			// print fmt on the next lines.
			f.PrintFmt += "\n" + sc.Text()
			continue
		}
		line := strings.TrimSpace(sc.Text())
		key, val, _ := strings.Cut(line, ":")
		switch key {
		case "":
			// blank line between common and own fields
		case "name":
			f.Name = strings.TrimSpace(val)
			haveName = f.Name != ""
		case "ID":
			id, err := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("format line %d: bad ID %q", n, strings.TrimSpace(val))
			}
			f.ID, hasID = id, true
		case "format":
		case "field":
			fl, err := parseField(line)
			if err != nil {
				return nil, fmt.Errorf("format line %d: %w", n, err)
			}
			if strings.HasPrefix(fl.Name, "common_") {
				f.Common = append(f.Common, fl)
			} else {
				f.Fields = append(f.Fields, fl)
			}
			f.Size = max(f.Size, fl.Offset+fl.Size)
		case "print fmt":
			// The rest of the file is the print fmt.
			f.PrintFmt = strings.TrimSpace(val)
			inPrintFmt = true
		default:
			return nil, fmt.Errorf("format line %d: unexpected %q", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading format: %w", err)
	}
	f.PrintFmt = strings.TrimRight(f.PrintFmt, "\n")
	if !haveName {
		return nil, errors.New("format has no name line")
	}
	if !hasID {
		return nil, errors.New("format has no ID line")
	}
	return &f, nil
}

// parseField parses
//
//	field:TYPE NAME[DIMS];	offset:N;	size:N;	signed:N;
func parseField(line string) (Field, error) {
	var (
		fl                   Field
		decl                 string
		haveOffset, haveSize bool
	)
	for part := range strings.SplitSeq(line, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, ":")
		if !ok {
			return Field{}, fmt.Errorf("field attribute %q has no ':'", part)
		}
		val = strings.TrimSpace(val)
		var err error
		switch key {
		case "field":
			decl = val
		case "offset":
			fl.Offset, err = strconv.Atoi(val)
			haveOffset = true
		case "size":
			fl.Size, err = strconv.Atoi(val)
			haveSize = true
		case "signed":
			var s int
			s, err = strconv.Atoi(val)
			fl.Signed = s != 0
		default:
			// Unknown attributes are ignored, for future kernels.
		}
		if err != nil {
			return Field{}, fmt.Errorf("field %q: bad %s %q", decl, key, val)
		}
	}
	if decl == "" {
		return Field{}, fmt.Errorf("no field declaration in %q", line)
	}
	if !haveOffset || !haveSize {
		return Field{}, fmt.Errorf("field %q: missing offset or size", decl)
	}
	if err := parseDecl(decl, &fl); err != nil {
		return Field{}, err
	}
	return fl, nil
}

// parseDecl splits a C declaration such as "const char * filename",
// "char prev_comm[16]" or "__data_loc char[] filename" into fl's name, type
// and array attributes. fl.Size must already be set.
func parseDecl(decl string, fl *Field) error {
	rest := strings.TrimSpace(decl)

	// Peel array dimensions off the name: "comm[16]", "buf[]", "x[2][3]".
	var dims []string
	for strings.HasSuffix(rest, "]") {
		open := strings.LastIndexByte(rest, '[')
		if open < 0 {
			return fmt.Errorf("field %q: unbalanced ']'", decl)
		}
		dims = append([]string{strings.TrimSpace(rest[open+1 : len(rest)-1])}, dims...)
		rest = strings.TrimSpace(rest[:open])
	}

	sp := strings.LastIndexAny(rest, " \t*")
	if sp < 0 || sp == len(rest)-1 {
		return fmt.Errorf("field %q: cannot split type from name", decl)
	}
	fl.Name = rest[sp+1:]
	fl.Type = strings.Join(strings.Fields(rest[:sp+1]), " ")
	if fl.Type == "" {
		return fmt.Errorf("field %q: no type", decl)
	}

	fl.DataLoc = strings.HasPrefix(fl.Type, "__data_loc ")
	fl.RelLoc = strings.HasPrefix(fl.Type, "__rel_loc ")
	fl.Pointer = strings.HasSuffix(fl.Type, "*")

	if len(dims) == 0 {
		return nil
	}
	if len(dims) == 1 && dims[0] == "" {
		fl.FlexArray = true
		return nil
	}
	n := 1
	for _, d := range dims {
		v, err := strconv.Atoi(d)
		if err != nil || v < 0 {
			// Some kernels print a symbolic length (an enum name).
			// Recover it from the field size when the element size is
			// known.
			return arrayLenFromSize(decl, dims, fl)
		}
		n *= v
	}
	fl.ArrayLen = n
	return nil
}

// arrayLenFromSize derives the element count of an array whose dimensions
// are not numbers, from its total size and its element type's size.
func arrayLenFromSize(decl string, dims []string, fl *Field) error {
	elem := cTypeSize(fl.Type)
	if fl.Pointer {
		elem = wordSize
	}
	if elem == 0 || fl.Size%elem != 0 {
		return fmt.Errorf("field %q: cannot determine length of array %v", decl, dims)
	}
	fl.ArrayLen = fl.Size / elem
	return nil
}

// wordSize is the size of a pointer or long. Tracepoint formats describe the
// running kernel, which has the same word size as this program.
const wordSize = strconv.IntSize / 8

// cTypeSize returns the size of common scalar C and kernel types, or 0.
func cTypeSize(t string) int {
	t = strings.TrimPrefix(t, "const ")
	t = strings.TrimPrefix(t, "volatile ")
	switch t {
	case "char", "signed char", "unsigned char", "bool", "_Bool",
		"u8", "s8", "__u8", "__s8", "int8_t", "uint8_t":
		return 1
	case "short", "unsigned short", "short int", "short unsigned int",
		"u16", "s16", "__u16", "__s16", "__be16", "__le16", "int16_t", "uint16_t":
		return 2
	case "int", "unsigned int", "unsigned", "u32", "s32", "__u32", "__s32",
		"__be32", "__le32", "int32_t", "uint32_t", "pid_t", "uid_t", "gid_t":
		return 4
	case "long long", "unsigned long long", "u64", "s64", "__u64", "__s64",
		"__be64", "__le64", "int64_t", "uint64_t":
		return 8
	case "long", "unsigned long", "size_t", "ssize_t":
		return wordSize
	}
	return 0
}
