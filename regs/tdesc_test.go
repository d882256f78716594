package regs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tdesc is the part of a target description the tests look at.
type tdesc struct {
	Architecture string `xml:"architecture"`
	OSABI        string `xml:"osabi"`
	Features     []struct {
		Name string `xml:"name,attr"`
		Regs []struct {
			Name    string `xml:"name,attr"`
			Bitsize int    `xml:"bitsize,attr"`
			Type    string `xml:"type,attr"`
			Regnum  *int   `xml:"regnum,attr"`
			Group   string `xml:"group,attr"`
		} `xml:"reg"`
	} `xml:"feature"`
}

func TestTargetXML(t *testing.T) {
	for name, l := range testLayouts(t) {
		doc := l.TargetXML()
		if !bytes.Equal(doc, l.TargetXML()) || &doc[0] != &l.TargetXML()[0] {
			t.Errorf("%s: TargetXML not computed once", name)
		}
		if bytes.Contains(doc, []byte("xi:include")) {
			t.Errorf("%s: description includes other documents", name)
		}
		var d tdesc
		if err := xml.Unmarshal(doc, &d); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, doc)
		}
		if d.Architecture != "i386:x86-64" || d.OSABI != "GNU/Linux" {
			t.Errorf("%s: architecture %q, osabi %q", name, d.Architecture, d.OSABI)
		}
		var features []string
		n := 0
		for _, f := range d.Features {
			features = append(features, f.Name)
			for _, r := range f.Regs {
				info, ok := l.Info(n)
				if !ok || r.Regnum == nil || *r.Regnum != n || r.Name != info.Name ||
					r.Bitsize != info.Bits || r.Type != info.Type || r.Group != info.Group || f.Name != info.Feature {
					t.Errorf("%s: reg %d in the description is %+v in %s; want %+v", name, n, r, f.Name, info)
				}
				n++
			}
		}
		if n != l.NumRegs() {
			t.Errorf("%s: description has %d registers, want %d", name, n, l.NumRegs())
		}
		want := []string{featureCore, featureSSE, featureLinux, featureSegments}
		if l.HasAVX {
			want = append(want, featureAVX)
		}
		if l.HasAVX512 {
			want = append(want, featureAVX512)
		}
		if l.HasPKRU {
			want = append(want, featurePKeys)
		}
		if !slices.Equal(features, want) {
			t.Errorf("%s: features %v, want %v", name, features, want)
		}
	}
}

// TestTargetXMLWithGDB loads each description into gdb and checks that gdb
// accepts it, numbers the registers and lays out the g packet as the table
// does, and builds its pseudo-registers from it: ymm0 with AVX; with
// AVX-512 zmm0-zmm31 and ymm16-ymm31, as gdb's own feature makes them, and
// the opmask registers, which gdb shows in `info registers`.
func TestTargetXMLWithGDB(t *testing.T) {
	gdb, err := exec.LookPath("gdb")
	if err != nil {
		t.Skip("gdb not installed")
	}
	host, err := HostLayout()
	if err != nil {
		t.Fatal(err)
	}
	layouts := testLayouts(t)
	layouts["host"] = host
	for name, l := range layouts {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "target.xml")
			if err := os.WriteFile(file, l.TargetXML(), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, gdb, "-nx", "-batch",
				"-ex", "set tdesc filename "+file,
				"-ex", "show architecture",
				"-ex", "maint print remote-registers",
				"-ex", "ptype $xmm0",
				"-ex", "ptype $eflags",
				"-ex", "ptype $mxcsr")
			if l.HasAVX {
				cmd.Args = append(cmd.Args, "-ex", "ptype $ymm0")
			}
			if l.HasAVX512 {
				cmd.Args = append(cmd.Args, "-ex", "ptype $zmm0", "-ex", "ptype $zmm31", "-ex", "ptype $ymm16",
					"-ex", "ptype $xmm31", "-ex", "ptype $k7")
			}
			if l.HasPKRU {
				cmd.Args = append(cmd.Args, "-ex", "ptype $pkru")
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("gdb: %v\n%s", err, out)
			}
			text := string(out)
			for _, bad := range []string{"warning", "rror", "Could not load", "Invalid"} {
				if strings.Contains(text, bad) {
					t.Fatalf("gdb complains:\n%s", text)
				}
			}
			for _, want := range []string{`"i386:x86-64"`, "v4_float", "CF", "DAZ"} {
				if !strings.Contains(text, want) {
					t.Errorf("gdb output lacks %s:\n%s", want, text)
				}
			}
			if l.HasAVX && !strings.Contains(text, "v8_float") {
				t.Errorf("gdb has no ymm0 pseudo-register:\n%s", text)
			}
			if l.HasAVX512 {
				// $zmm0 and $zmm31 are unions with v16_int32; $ymm16 one
				// with v8_int32; $k7 a 64-bit integer.
				if n := strings.Count(text, "v16_int32"); n != 2 {
					t.Errorf("gdb shows v16_int32 %d times, want twice (zmm0, zmm31):\n%s", n, text)
				}
				if n := strings.Count(text, "v8_int32"); n != 2 {
					t.Errorf("gdb shows v8_int32 %d times, want twice (ymm0, ymm16):\n%s", n, text)
				}
				if !strings.Contains(text, "type = uint64_t") {
					t.Errorf("gdb's $k7 is not a uint64_t:\n%s", text)
				}
			}
			if l.HasPKRU && !strings.Contains(text, "type = uint32_t") {
				t.Errorf("gdb's $pkru is not a uint32_t:\n%s", text)
			}

			// "maint print remote-registers": name, gdb's internal
			// number and offset, size, type, then the remote number
			// and g/G offset for registers in the g packet.
			remote := map[string][2]int{}
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) != 8 {
					continue
				}
				num, err1 := strconv.Atoi(f[6])
				off, err2 := strconv.Atoi(f[7])
				if err1 == nil && err2 == nil {
					remote[f[0]] = [2]int{num, off}
				}
			}
			if len(remote) != l.NumRegs() {
				t.Errorf("gdb sees %d remote registers, want %d:\n%s", len(remote), l.NumRegs(), text)
			}
			for n := range l.NumRegs() {
				info, _ := l.Info(n)
				if got, want := remote[info.Name], [2]int{n, info.Offset}; got != want {
					t.Errorf("gdb puts %s at remote number %d, g offset %d; want %d, %d", info.Name, got[0], got[1], want[0], want[1])
				}
			}
			for _, name := range []string{"xmm0", "orig_rax", "fs_base", "gs_base"} {
				if _, ok := remote[name]; !ok {
					t.Errorf("gdb lacks %s", name)
				}
			}
		})
	}
}
