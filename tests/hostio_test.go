//go:build linux

package tests

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Host I/O (vFile packets): gdb reading the program and its libraries
// from the stub with "set sysroot target:", remote put/get/delete, the
// confinement options, and every call's errors at the packet level.

// putsHitRE is a stop at the breakpoint on libc's puts.
const putsHitRE = `Breakpoint \d+, (0x[0-9a-f]+ in )?(__GI__IO_puts|_IO_puts|puts) \(`

// TestSysrootTarget: gdb, given no local file, takes the program's path
// from the stub and reads it and every shared library through vFile; the
// symbols of all of them are loaded, so breakpoints by name work in both.
func TestSysrootTarget(t *testing.T) {
	prepare(t)
	s, report := startBasic(t)
	tr := runGDB(t, "", "target remote "+s.target,
		"set sysroot target:",
		"break main",
		"break puts",
		"continue",
		"continue",
		"info sharedlibrary",
		"info files",
		"continue",
	)
	all := tr.all
	for _, file := range []string{prog("basic"), "libc.so.6", "ld-linux-x86-64.so.2"} {
		re := `Reading \S*` + regexp.QuoteMeta(file) + ` from remote target\.\.\.`
		if !regexp.MustCompile(re).MatchString(all) {
			t.Errorf("gdb did not read %s from the stub (no match for %q)", file, re)
		}
	}
	tr.match("break main", `Breakpoint 1 at 0x[0-9a-f]+: file \S*basic.c, line \d+\.`)
	tr.match("continue", `Breakpoint 1, main \(`)
	tr.match("continue", putsHitRE, 2)
	libs := tr.out("info sharedlibrary")
	for _, lib := range []string{"libc.so.6", "ld-linux-x86-64.so.2"} {
		re := `(?m)^0x[0-9a-f]+\s+0x[0-9a-f]+\s+Yes\s+target:\S*` + regexp.QuoteMeta(lib) + `$`
		if !regexp.MustCompile(re).MatchString(libs) {
			t.Errorf("info sharedlibrary has no line with symbols read for target:…%s:\n%s", lib, indent(libs))
		}
	}
	if strings.Contains(libs, "(*)") || regexp.MustCompile(`\sNo\s`).MatchString(libs) {
		t.Errorf("info sharedlibrary shows libraries without symbols:\n%s", indent(libs))
	}
	tr.match("info files", `Symbols from "target:`+regexp.QuoteMeta(prog("basic"))+`"`)
	tr.match("continue", exitedRE(7), 3)
	checkBasicReport(t, report)
}

// TestRemotePutGetDelete round-trips a 16 MiB file of random bytes, which
// contain every byte the framing must escape, through remote put and
// remote get, then deletes it with remote delete.
func TestRemotePutGetDelete(t *testing.T) {
	prepare(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	remote := filepath.Join(dir, "remote")
	back := filepath.Join(dir, "back")
	data := make([]byte, 16<<20)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startStub(t, stubOptions{prog: prog("basic")})
	stamp := "shell date +%s.%N"
	tr := s.gdb(
		stamp,
		"remote put "+src+" "+remote,
		stamp,
		"remote get "+remote+" "+back,
		stamp,
		"remote delete "+remote,
		"remote get "+remote+" "+back+".2",
	)
	for _, cmd := range []string{"remote put " + src + " " + remote, "remote get " + remote + " " + back, "remote delete " + remote} {
		if out := tr.out(cmd); strings.Contains(out, "error") || strings.Contains(out, "rror:") {
			t.Errorf("%q printed %q", cmd, out)
		}
	}
	got, err := os.ReadFile(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("remote get returned %d bytes, not the %d put (first difference at %d)", len(got), len(data), firstDiff(got, data))
	}
	if _, err := os.Stat(remote); !os.IsNotExist(err) {
		t.Errorf("remote delete left %s: %v", remote, err)
	}
	tr.match("remote get "+remote+" "+back+".2", `No such file or directory`)

	var stamps []float64
	for i := 1; i <= 3; i++ {
		v, err := strconv.ParseFloat(strings.TrimSpace(tr.out(stamp, i)), 64)
		if err != nil {
			t.Fatalf("time stamp %d: %v", i, err)
		}
		stamps = append(stamps, v)
	}
	put, get := stamps[1]-stamps[0], stamps[2]-stamps[1]
	t.Logf("%s: 16 MiB remote put %.3fs (%.0f MiB/s), remote get %.3fs (%.0f MiB/s)",
		suite.stub, put, 16/put, get, 16/get)
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// vfileTree builds a tree to confine procgdb to:
//
//	base/secret
//	base/root/file
//	base/root/abs -> base      (absolute)
//	base/root/rel -> ..        (relative, climbing out)
//	base/root/proc -> /proc/self/root
func vfileTree(t *testing.T) (base, root string) {
	t.Helper()
	base = t.TempDir()
	root = filepath.Join(base, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{filepath.Join(base, "secret"): "secret", filepath.Join(root, "file"): "inside"} {
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{"abs": base, "rel": "..", "proc": "/proc/self/root"} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return base, root
}

// vfileEscapes returns paths that lead out of the tree vfileTree made,
// each in its own way.
func vfileEscapes(base, root string) []string {
	return []string{
		base + "/secret",
		"/etc/passwd",
		root + "/../secret",
		root + "/abs/secret",
		root + "/rel/secret",
		root + "/proc" + base + "/secret",
		"/proc/self/root" + base + "/secret",
		"../secret",
	}
}

// TestVFileRoot: with --vfile-root, gdb reads and writes inside the tree
// and nothing outside it, however the path is spelled.
func TestVFileRoot(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "--vfile-root")
	base, root := vfileTree(t)
	local := t.TempDir()
	up := filepath.Join(local, "up")
	if err := os.WriteFile(up, []byte("uploaded"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startStub(t, stubOptions{prog: prog("basic"), flags: []string{"--vfile-root=" + root}})

	escapes := vfileEscapes(base, root)
	var cmds []string
	for i, p := range escapes {
		cmds = append(cmds, fmt.Sprintf("remote get %s %s/got%d", p, local, i))
	}
	cmds = append(cmds,
		"remote get "+root+"/file "+local+"/inside",
		"remote get file "+local+"/relative",
		"remote put "+up+" "+root+"/new",
		"remote put "+up+" "+root+"/../new",
		"remote put "+up+" "+root+"/rel/new",
		"remote delete "+base+"/secret",
		"remote delete "+root+"/rel/secret",
		"remote delete "+root+"/new",
	)
	tr := s.gdb(cmds...)
	for i, p := range escapes {
		tr.match(cmds[i], `Remote I/O error: Permission denied`)
		if _, err := os.Stat(fmt.Sprintf("%s/got%d", local, i)); err == nil {
			t.Errorf("remote get %s wrote a local file", p)
		}
	}
	for _, cmd := range cmds[len(escapes)+3 : len(cmds)-1] {
		tr.match(cmd, `Remote I/O error: Permission denied`)
	}
	for _, f := range []string{"inside", "relative"} {
		if got, err := os.ReadFile(filepath.Join(local, f)); string(got) != "inside" {
			t.Errorf("remote get inside the root: %q, %v", got, err)
		}
	}
	if got, err := os.ReadFile(filepath.Join(base, "secret")); string(got) != "secret" || err != nil {
		t.Errorf("secret is now %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(base, "new")); err == nil {
		t.Error("remote put created a file outside the root")
	}
	if _, err := os.Stat(filepath.Join(root, "new")); !os.IsNotExist(err) {
		t.Errorf("remote put then delete inside the root left %v", err)
	}
}

// TestVFileRootStat: vFile:stat (gdb 16) and vFile:lstat (gdb 17) are
// confined as the other vFile packets are. lstat shows a link inside the
// tree, wherever it points, and nothing a path leads to outside.
func TestVFileRootStat(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "--vfile-root")
	base, root := vfileTree(t)
	s := startStub(t, stubOptions{prog: prog("basic"), flags: []string{"--vfile-root=" + root}})
	c := dialStub(t, s)
	const eacces = "F-1,d"
	for _, p := range vfileEscapes(base, root) {
		for _, op := range []string{"stat", "lstat"} {
			if r := exchange(t, c, "vFile:"+op+":"+hexPath(p)); r != eacces {
				t.Errorf("vFile:%s %s: %q, want %q", op, p, r, eacces)
			}
		}
	}
	// stat follows the links out and is refused; lstat shows the links.
	for _, link := range []string{"abs", "rel", "proc"} {
		p := root + "/" + link
		if r := exchange(t, c, "vFile:stat:"+hexPath(p)); r != eacces {
			t.Errorf("vFile:stat %s: %q, want %q", p, r, eacces)
		}
		if r := exchange(t, c, "vFile:lstat:"+hexPath(p)); !strings.HasPrefix(r, "F40;") {
			t.Errorf("vFile:lstat %s: %q, want the link's status", p, r)
		}
	}
	for _, op := range []string{"stat", "lstat"} {
		if r := exchange(t, c, "vFile:"+op+":"+hexPath(root+"/file")); !strings.HasPrefix(r, "F40;") || len(r) != 4+64 || r[4+35] != 6 {
			t.Errorf("vFile:%s of a file inside: %q, want the status of 6 bytes", op, r)
		}
	}
	stillAnswers(t, c)
}

// TestVFileRootNamespace: a debugged process cannot move the root by
// changing what its own mount namespace shows at the root's path. The
// process, in a user and mount namespace of its own, binds / over the
// root's path; the client selects that process's file system
// (vFile:setfs, as gdb does for its sysroot) and asks for a file outside
// the root through the root's path, and for a new file there. procgdb
// still serves the directory it opened, in its own namespace.
func TestVFileRootNamespace(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "--vfile-root")
	canUnshare(t)
	base := t.TempDir()
	root := filepath.Join(base, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	secret, created := filepath.Join(base, "secret"), filepath.Join(base, "created")
	for name, data := range map[string]string{secret: "secret", filepath.Join(root, "inside"): "inside"} {
		if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := startUnshared(t, `mount --rbind / "$0" && echo "ready pid=$$" && exec sleep 600`, root)
	s := startStub(t, stubOptions{attach: p.cmd.Process.Pid, flags: []string{"--vfile-root", root}})
	c := dialStub(t, s)
	x := func(p string) string { t.Helper(); return exchange(t, c, p) }
	x("qSupported:multiprocess+")
	if r := x(fmt.Sprintf("vFile:setfs:%x", s.pid)); r != "F0" {
		t.Fatalf("vFile:setfs:%x = %q, want F0", s.pid, r)
	}
	// In the process's namespace, root+secret is secret.
	if r := x("vFile:open:" + hexPath(root+secret) + ",0,0"); !strings.HasPrefix(r, "F-1,") {
		t.Errorf("open %s = %q, want an error", root+secret, r)
		if strings.HasPrefix(r, "F") {
			t.Errorf("and it reads %q", x("vFile:pread:"+r[1:]+",100,0"))
		}
	}
	if r := x("vFile:open:" + hexPath(root+created) + ",601,180"); !strings.HasPrefix(r, "F-1,") {
		t.Errorf("create %s = %q, want an error", root+created, r)
	}
	if _, err := os.Stat(created); !os.IsNotExist(err) {
		t.Errorf("a client created %s: %v", created, err)
	}
	// The root procgdb opened is still served.
	fd := x("vFile:open:" + hexPath(root+"/inside") + ",0,0")
	if got := x("vFile:pread:" + strings.TrimPrefix(fd, "F") + ",100,0"); got != "F6;inside" {
		t.Errorf("read %s/inside after setfs = %q (open: %q), want F6;inside", root, got, fd)
	}
	if r := x("D"); r != "OK" {
		t.Errorf("D = %q", r)
	}
}

// canUnshare skips the test unless this machine lets it make a user and
// mount namespace and bind-mount in it (unshare -Urm, mount --rbind).
func canUnshare(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"unshare", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: %v", tool, err)
		}
	}
	out, err := exec.Command("unshare", "-Urm", "sh", "-c", `mount --rbind / "$0"`, t.TempDir()).CombinedOutput()
	if err != nil {
		t.Skipf("no user and mount namespace here: unshare -Urm, mount --rbind: %v: %s", err, out)
	}
}

// startUnshared runs the shell script script, with $0 set to arg, in a
// new user and mount namespace, and returns it once it prints
// "ready pid=$$".
func startUnshared(t *testing.T, script, arg string) *process {
	t.Helper()
	cmd := exec.Command("unshare", "-Urm", "sh", "-c", script, arg)
	return waitReady(t, "unshare", startCmd(t, "unshare", cmd))
}

// TestNoVFileWrite: --no-vfile-write lets gdb read but not write, create
// or delete.
func TestNoVFileWrite(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "--no-vfile-write")
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startStub(t, stubOptions{prog: prog("basic"), flags: []string{"--no-vfile-write"}})
	tr := s.gdb(
		"remote put "+f+" "+dir+"/new",
		"remote put "+f+" "+f,
		"remote delete "+f,
		"remote get "+f+" "+dir+"/copy",
		"break puts",
		"continue",
	)
	tr.match("remote put "+f+" "+dir+"/new", `Remote I/O error: Read-only file system`)
	tr.match("remote put "+f+" "+f, `Remote I/O error: Read-only file system`)
	tr.match("remote delete "+f, `Remote I/O error: Read-only file system`)
	tr.noMatch("remote get "+f+" "+dir+"/copy", `error`)
	tr.match("continue", putsHitRE)
	if got, err := os.ReadFile(f); string(got) != "keep" || err != nil {
		t.Errorf("file is now %q, %v", got, err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "copy")); string(got) != "keep" || err != nil {
		t.Errorf("copy is %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
		t.Error("a file was created")
	}
}

// TestVFileRootStartup: a --vfile-root that is not a directory stops
// procgdb at start-up with one line.
func TestVFileRootStartup(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "--vfile-root")
	missing := filepath.Join(t.TempDir(), "missing")
	_, stderr, code := runStub(t, "--vfile-root", missing, ":0", prog("basic"))
	if code != 1 || strings.TrimSpace(stderr) != "procgdb: --vfile-root "+missing+": no such file or directory" {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// hexPath encodes a path for a vFile packet.
func hexPath(p string) string { return hex.EncodeToString([]byte(p)) }

// TestVFilePackets checks every vFile call and its errors over procgdb's
// own client: each gets an F reply with gdb's errno, and the session goes
// on.
func TestVFilePackets(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "procgdb's descriptor numbers and setfs checks")
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("f", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	s := startStub(t, stubOptions{prog: prog("basic")})
	c := dialStub(t, s)
	x := func(p string) string { t.Helper(); return exchange(t, c, p) }
	expect := func(p, want string) {
		t.Helper()
		if got := x(p); got != want {
			t.Errorf("%.60q: got %q, want %q", p, got, want)
		}
	}

	expect("vFile:setfs:0", "F0")
	expect(fmt.Sprintf("vFile:setfs:%x", s.pid), "F0")
	expect("vFile:setfs:1", "F-1,1") // not a process procgdb debugs
	expect("vFile:setfs:-5", "F-1,16")
	expect("vFile:setfs:q", "F-1,16")

	expect("vFile:open:"+hexPath(f)+",0,0", "F0")
	expect("vFile:pread:0,4,3", "F4;3456")
	expect("vFile:pread:0,100,8", "F2;89")
	expect("vFile:pread:0,100,a", "F0;")
	expect("vFile:pread:0,7fffffffffffffff,0", "Fa;0123456789")
	st := x("vFile:fstat:0")
	if !strings.HasPrefix(st, "F40;") || len(st) != 4+64 || !bytes.Equal([]byte(st[4+28:4+36]), []byte{0, 0, 0, 0, 0, 0, 0, 10}) ||
		!bytes.Equal([]byte(st[4+8:4+12]), []byte{0, 0, 0x81, 0xa4}) {
		t.Errorf("fstat: %q, want F40; and a struct stat of a 0644 regular file of 10 bytes", st)
	}
	if st2 := x("vFile:stat:" + hexPath(filepath.Join(dir, "link"))); st2 != st {
		t.Errorf("stat through a link: %q, want the fstat %q", st2, st)
	}
	if st2 := x("vFile:lstat:" + hexPath(f)); st2 != st {
		t.Errorf("lstat of a file: %q, want the fstat %q", st2, st)
	}
	// gdb 17's lstat of a link: the link's own size, and a mode with no
	// type the protocol knows.
	if l := x("vFile:lstat:" + hexPath(filepath.Join(dir, "link"))); !strings.HasPrefix(l, "F40;") || len(l) != 4+64 ||
		!bytes.Equal([]byte(l[4+8:4+12]), []byte{0, 0, 0x01, 0xff}) || !bytes.Equal([]byte(l[4+28:4+36]), []byte{0, 0, 0, 0, 0, 0, 0, 1}) {
		t.Errorf("lstat of a link: %q, want F40; and a struct stat of mode 0777 and size 1", l)
	}
	expect("vFile:readlink:"+hexPath(filepath.Join(dir, "link")), "F1;f")

	type call struct{ packet, want string }
	errs := []call{
		// open
		{"vFile:open:" + hexPath(dir+"/missing") + ",0,0", "F-1,2"},
		{"vFile:open:" + hexPath(f) + ",a01,1a4", "F-1,11"}, // O_CREAT|O_EXCL
		{"vFile:open:" + hexPath(dir) + ",1,0", "F-1,15"},
		{"vFile:open:" + hexPath(f+"/x") + ",0,0", "F-1,14"},
		{"vFile:open:" + hexPath("/dev/null") + ",0,0", "F-1,13"},
		{"vFile:open:" + hexPath(f) + "00,0,0", "F-1,16"},
		{"vFile:open:" + hexPath("/"+strings.Repeat("a", 5000)) + ",0,0", "F-1,5b"},
		{"vFile:open:" + hexPath(f) + ",3,0", "F-1,16"},
		{"vFile:open:" + hexPath(f), "F-1,16"},
		{"vFile:open:xy,0,0", "F-1,16"},
		// pread
		{"vFile:pread:9,10,0", "F-1,9"},
		{"vFile:pread:-1,10,0", "F-1,9"},
		{"vFile:pread:0,10,-1", "F-1,16"},
		{"vFile:pread:0,-10,0", "F-1,16"},
		{"vFile:pread:0,10", "F-1,16"},
		// pwrite
		{"vFile:pwrite:0,0,x", "F-1,9"}, // opened read-only
		{"vFile:pwrite:9,0,x", "F-1,9"},
		{"vFile:pwrite:0,-1,x", "F-1,16"},
		{"vFile:pwrite:0", "F-1,16"},
		// close, fstat
		{"vFile:close:9", "F-1,9"},
		{"vFile:close:", "F-1,16"},
		{"vFile:fstat:9", "F-1,9"},
		{"vFile:fstat:zz", "F-1,16"},
		// unlink
		{"vFile:unlink:" + hexPath(dir+"/missing"), "F-1,2"},
		{"vFile:unlink:" + hexPath(dir), "F-1,15"},
		{"vFile:unlink:" + hexPath(f+"/x"), "F-1,14"},
		{"vFile:unlink:", "F-1,16"},
		// readlink
		{"vFile:readlink:" + hexPath(f), "F-1,16"},
		{"vFile:readlink:" + hexPath(dir+"/missing"), "F-1,2"},
		{"vFile:readlink:" + hexPath(f) + "00", "F-1,16"},
		// stat
		{"vFile:stat:" + hexPath(dir+"/missing"), "F-1,2"},
		{"vFile:stat:" + hexPath(f+"/x"), "F-1,14"},
		{"vFile:stat:", "F-1,16"},
		// lstat
		{"vFile:lstat:" + hexPath(dir+"/missing"), "F-1,2"},
		{"vFile:lstat:" + hexPath(f+"/x"), "F-1,14"},
		{"vFile:lstat:" + hexPath(f) + "00", "F-1,16"},
		{"vFile:lstat:", "F-1,16"},
	}
	for _, e := range errs {
		expect(e.packet, e.want)
	}
	stillAnswers(t, c)

	// Writing, at an offset, and reading it back through another
	// descriptor; then the file goes.
	g := filepath.Join(dir, "g")
	expect("vFile:open:"+hexPath(g)+",601,1a4", "F1")
	expect("vFile:pwrite:1,2,$#}*\x03", "F5")
	expect("vFile:open:"+hexPath(g)+",0,0", "F2")
	expect("vFile:pread:2,10,0", "F7;\x00\x00$#}*\x03")
	expect("vFile:close:2", "F0")
	expect("vFile:close:2", "F-1,9")
	expect("vFile:close:1", "F0")
	expect("vFile:unlink:"+hexPath(g), "F0")
	if _, err := os.Stat(g); !os.IsNotExist(err) {
		t.Errorf("after unlink: %v", err)
	}
}

// TestVFileClosedOnDisconnect: the descriptors a client opened are closed
// when it leaves, and the next client starts with a fresh table.
func TestVFileClosedOnDisconnect(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "procgdb's descriptor table")
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startStub(t, stubOptions{prog: prog("basic")})
	stubPID := s.cmd.Process.Pid
	c := dialStub(t, s)
	stillAnswers(t, c)
	before := countFDs(t, stubPID)
	for i := range 20 {
		if r := exchange(t, c, "vFile:open:"+hexPath(f)+",0,0"); r != fmt.Sprintf("F%x", i) {
			t.Fatalf("open %d: %q", i, r)
		}
	}
	if n := countFDs(t, stubPID); n < before+20 {
		t.Errorf("%d descriptors with 20 files open, %d before", n, before)
	}
	c.Close()

	// The session closes the client's files as it ends, before procgdb
	// says the client has gone.
	s.waitStderr(`^Remote side has terminated connection`)
	c2 := dialStub(t, s)
	if n := countFDs(t, stubPID); n > before {
		t.Errorf("%d descriptors after the client left, %d before it opened files", n, before)
	}
	if r := exchange(t, c2, "vFile:pread:0,1,0"); r != "F-1,9" {
		t.Errorf("the first client's descriptor in the second session: %q, want F-1,9", r)
	}
	if r := exchange(t, c2, "vFile:open:"+hexPath(f)+",0,0"); r != "F0" {
		t.Errorf("open in the second session: %q, want F0", r)
	}
}

// countFDs counts the open descriptors of process pid.
func countFDs(t *testing.T, pid int) int {
	t.Helper()
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}
