package rsp

import (
	"bytes"
	"encoding/xml"
	"slices"
)

// The operating system's tables, per the manual's "General Query
// Packets" (qXfer:osdata:read:TYPE:offset,length) and "Operating System
// Information" (the osdata document):
//
//	<?xml version="1.0"?>
//	<osdata type="processes">
//	<item><column name="pid">1</column>...</item>
//	</osdata>
//
// gdb's `info os TYPE` and MI's -info-os show table TYPE; `info os`
// alone reads the empty annex, the list of tables (columns Type,
// Description and Title). MI's -list-thread-groups --available reads the
// processes table, and gdb completes `attach` from it: Eclipse's attach
// dialog lists processes this way.

// OSDataType describes one table of an OSDataSource.
type OSDataType struct {
	Type        string // the annex naming it, what `info os TYPE` names
	Title       string // a short title
	Description string // what `info os` shows
}

// OSDataSource is implemented by targets that describe the system they
// run on. The session offers qXfer:osdata:read only when its Target is
// one.
type OSDataSource interface {
	// OSDataTypes lists the tables.
	OSDataTypes() []OSDataType
	// OSData calls item with the column names and values of each item of
	// table typ, one of OSDataTypes, until item returns false. The
	// slices are valid during the call only.
	OSData(typ string, item func(columns, values []string) bool) error
}

func isOSDataSource(s *Session) bool {
	_, ok := s.t.(OSDataSource)
	return ok
}

// maxOSData bounds an osdata document: a table is cut after the last item
// that fits, so that a machine with many processes or open files costs a
// bounded amount of memory (the document is kept while the client reads
// it in windows).
const maxOSData = 8 << 20

// osTypesTable names the list of tables, which the empty annex reads too.
const osTypesTable = "types"

// xferOSData serves table annex of the target's OSDataSource.
func (s *Session) xferOSData(args []byte) reply {
	return s.xfer("osdata", args, func(annex string) ([]byte, error) {
		doc, cut, err := osdataXML(s.t.(OSDataSource), annex, maxOSData)
		if cut {
			s.log.Warn("osdata table cut short", "type", annex, "limit", maxOSData)
		}
		return doc, err
	})
}

// osdataXML builds the osdata document of table typ ("" for the list of
// tables), of at most limit bytes: cut reports that items were left out
// to stay within it. A type src does not have gives an empty document, as
// gdbserver does: gdb then asks the user whether the type is wrong.
func osdataXML(src OSDataSource, typ string, limit int) (doc []byte, cut bool, err error) {
	types := src.OSDataTypes()
	if typ == "" {
		typ = osTypesTable
	}
	if typ != osTypesTable && !slices.ContainsFunc(types, func(t OSDataType) bool { return t.Type == typ }) {
		return nil, false, nil
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?>` + "\n" + `<osdata type="`)
	escapeXML(&b, typ)
	b.WriteString("\">\n")
	const end = "</osdata>\n"
	item := func(columns, values []string) bool {
		n := b.Len()
		b.WriteString("<item>")
		for i, c := range columns {
			b.WriteString(`<column name="`)
			escapeXML(&b, c)
			b.WriteString(`">`)
			if i < len(values) {
				escapeXML(&b, values[i])
			}
			b.WriteString("</column>")
		}
		b.WriteString("</item>\n")
		if b.Len()+len(end) > limit {
			b.Truncate(n)
			cut = true
			return false
		}
		return true
	}
	if typ == osTypesTable {
		columns := []string{"Type", "Description", "Title"}
		for _, t := range types {
			if !item(columns, []string{t.Type, t.Description, t.Title}) {
				break
			}
		}
	} else if err := src.OSData(typ, item); err != nil {
		return nil, false, err
	}
	b.WriteString(end)
	return b.Bytes(), cut, nil
}

// escapeXML appends s to b as XML character data: markup characters
// escaped, and bytes XML cannot carry (control characters, invalid
// UTF-8, which command lines and file names may hold) replaced by U+FFFD.
func escapeXML(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a bytes.Buffer does not fail
}
