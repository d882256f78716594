package rsp

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// osSource is an OSDataSource with one table, "things", of n items;
// every walk numbers its items from where the last one stopped, so that
// a document made twice differs.
type osSource struct {
	n, next int
	values  []string // the values of every item but its number
	err     error
}

func (o *osSource) OSDataTypes() []OSDataType {
	return []OSDataType{{"things", "Things", "Every <thing>"}, {"empty", "Empty", "Nothing"}}
}

func (o *osSource) OSData(typ string, item func(columns, values []string) bool) error {
	if o.err != nil {
		return o.err
	}
	if typ != "things" {
		return nil
	}
	for range o.n {
		o.next++
		if !item([]string{"n", "value"}, append([]string{fmt.Sprint(o.next)}, o.values...)) {
			break
		}
	}
	return nil
}

func TestOSDataXML(t *testing.T) {
	src := &osSource{n: 2, values: []string{"a<b>&\"c' \x01\xff"}}
	doc, cut, err := osdataXML(src, "things", maxOSData)
	want := `<?xml version="1.0"?>
<osdata type="things">
<item><column name="n">1</column><column name="value">a&lt;b&gt;&amp;&#34;c&#39; ` + "\uFFFD\uFFFD" + `</column></item>
<item><column name="n">2</column><column name="value">a&lt;b&gt;&amp;&#34;c&#39; ` + "\uFFFD\uFFFD" + `</column></item>
</osdata>
`
	if err != nil || cut || string(doc) != want {
		t.Errorf("osdataXML(things) = %v, %v,\n%s\nwant\n%s", cut, err, doc, want)
	}

	wantTypes := `<?xml version="1.0"?>
<osdata type="types">
<item><column name="Type">things</column><column name="Description">Every &lt;thing&gt;</column><column name="Title">Things</column></item>
<item><column name="Type">empty</column><column name="Description">Nothing</column><column name="Title">Empty</column></item>
</osdata>
`
	for _, annex := range []string{"", "types"} {
		doc, cut, err := osdataXML(src, annex, maxOSData)
		if err != nil || cut || string(doc) != wantTypes {
			t.Errorf("osdataXML(%q) = %v, %v,\n%s\nwant\n%s", annex, cut, err, doc, wantTypes)
		}
	}

	doc, cut, err = osdataXML(src, "empty", maxOSData)
	if want := "<?xml version=\"1.0\"?>\n<osdata type=\"empty\">\n</osdata>\n"; err != nil || cut || string(doc) != want {
		t.Errorf("osdataXML(empty) = %q, %v, %v; want %q", doc, cut, err, want)
	}
	// A type the source does not have: nothing, as from gdbserver.
	if doc, cut, err := osdataXML(src, "nosuch", maxOSData); err != nil || cut || len(doc) != 0 {
		t.Errorf("osdataXML(nosuch) = %q, %v, %v; want nothing", doc, cut, err)
	}
	src.err = errors.New("no /proc")
	if _, _, err := osdataXML(src, "things", maxOSData); err != src.err {
		t.Errorf("osdataXML with a failing source: %v", err)
	}
}

// TestOSDataCut makes a table longer than the limit: it ends with the
// last item that fits, well-formed, and the walk stops there.
func TestOSDataCut(t *testing.T) {
	src := &osSource{n: 1000, values: []string{strings.Repeat("x", 100)}}
	const limit = 4096
	doc, cut, err := osdataXML(src, "things", limit)
	if err != nil || !cut || len(doc) > limit {
		t.Fatalf("osdataXML = %d bytes, %v, %v; want at most %d, cut", len(doc), cut, err, limit)
	}
	var parsed struct {
		Items []struct {
			Columns []string `xml:"column"`
		} `xml:"item"`
	}
	if err := xml.Unmarshal(doc, &parsed); err != nil {
		t.Fatalf("cut document does not parse: %v\n%s", err, doc)
	}
	n := len(parsed.Items)
	if n < 10 || src.next != n+1 {
		t.Errorf("%d items kept, %d walked; want the walk to end at the first left out", n, src.next)
	}
	if last := parsed.Items[n-1].Columns[0]; last != fmt.Sprint(n) {
		t.Errorf("last item is number %s, want %d", last, n)
	}
}

// TestOSDataWindows reads a table in windows: they come from one
// snapshot, made when the first window is read, although the source
// changes with every walk.
func TestOSDataWindows(t *testing.T) {
	ft := newFakeTarget()
	src := &osSource{n: 50, values: []string{"v"}}
	h := serveTarget(t, struct {
		*fakeTarget
		*osSource
	}{ft, src}, ft, Config{})
	if r := h.exchange(gdbFeatures); !strings.Contains(r, ";qXfer:osdata:read+") {
		t.Errorf("qSupported = %q, want qXfer:osdata:read+", r)
	}
	first, _, _ := osdataXML(&osSource{n: 50, values: []string{"v"}}, "things", maxOSData)
	var got []byte
	for off := 0; ; off += 0x100 {
		r := h.exchange(fmt.Sprintf("qXfer:osdata:read:things:%x,100", off))
		got = append(got, r[1:]...)
		if r[0] == 'l' {
			break
		}
	}
	if string(got) != string(first) {
		t.Errorf("windows =\n%s\nwant\n%s", got, first)
	}
	if src.next != 50 {
		t.Errorf("table walked %d items, want once", src.next)
	}
	// Reading from the start again takes a new snapshot.
	if doc, err := h.c.ReadXfer("osdata", "things"); err != nil || !strings.Contains(string(doc), `<column name="n">100</column>`) {
		t.Errorf("second read = %s, %v", doc, err)
	}
	h.expect("qXfer:osdata:read:nosuch:0,1000", "l")
}

func TestOSDataUnsupported(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	if r := h.exchange(gdbFeatures); strings.Contains(r, "osdata") {
		t.Errorf("qSupported = %q offers osdata without an OSDataSource", r)
	}
	h.expect("qXfer:osdata:read::0,1000", "")
}
