package target

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

func TestParseMaps(t *testing.T) {
	in := "55d0c0a00000-55d0c0a01000 r--p 00000000 fd:01 1234                       /usr/bin/my prog\n" +
		"55d0c0a01000-55d0c0a02000 r-xp 00001000 fd:01 1234                       /usr/bin/my prog\n" +
		"55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0                          [heap]\n" +
		"7f0000000000-7f0000001000 ---p 00000000 00:00 0 \n" +
		"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n" +
		"7f1000000000-7f1000001000 rw-s 00002000 00:05 99 /dev/shm/x (deleted)\n"
	ms, err := parseMaps([]byte(in))
	require.NoError(t, err)
	require.Len(t, ms, 6)
	require.Equal(t, Mapping{Start: 0x55d0c0a01000, End: 0x55d0c0a02000, Perms: "r-xp", Offset: 0x1000, Inode: 1234, Path: "/usr/bin/my prog"}, ms[1])
	require.True(t, ms[1].Readable() && ms[1].Executable() && !ms[1].Writable())
	require.Equal(t, "[heap]", ms[2].Path)
	require.Equal(t, "", ms[3].Path)
	require.False(t, ms[3].Readable() || ms[3].Writable() || ms[3].Executable())
	require.Equal(t, "/dev/shm/x (deleted)", ms[5].Path)
	require.Equal(t, uint64(2), ms[5].Offset/0x1000)

	for _, bad := range []string{
		"zz-1 r--p 0 0:0 0",
		"2-1 r--p 0 0:0 0",
		"1-2 r-- 0 0:0 0",
		"1-2 r--p zz 0:0 0",
		"1-2 r--p 0 0:0 x",
		"1-2",
	} {
		_, err := parseMaps([]byte(bad))
		require.ErrorIs(t, err, errMapsLine, "%q", bad)
	}
}

func FuzzParseMaps(f *testing.F) {
	f.Add([]byte("55d0c0a00000-55d0c0a01000 r--p 00000000 fd:01 1234   /usr/bin/prog\n"))
	f.Add([]byte("1-2 ---p 0 0:0 0 \n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := parseMaps(b)
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.End < m.Start || len(m.Perms) != 4 {
				t.Errorf("parseMaps(%q): %+v", b, m)
			}
		}
	})
}

func TestParseStatus(t *testing.T) {
	st, err := parseStatus([]byte("Name:\tprog\nUmask:\t0022\nPPid:\t42\nUid:\t1000\t1001\t1000\t1000\nGid:\t100\t101\t100\t100\n"))
	require.NoError(t, err)
	require.Equal(t, ProcessStatus{PPID: 42, UID: 1000, EUID: 1001, GID: 100, EGID: 101, Name: "prog"}, st)
	_, err = parseStatus([]byte("Name:\tprog\n"))
	require.Error(t, err)
}

func TestFindNote(t *testing.T) {
	var b bytes.Buffer
	note := func(name string, typ uint32, desc []byte) {
		binary.Write(&b, binary.LittleEndian, uint32(len(name)+1))
		binary.Write(&b, binary.LittleEndian, uint32(len(desc)))
		binary.Write(&b, binary.LittleEndian, typ)
		b.WriteString(name + "\x00")
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		b.Write(desc)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	note("GNU", 1, []byte{0, 0, 0, 0, 3, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	note("GNU", 3, []byte{1, 2, 3, 4, 5})
	require.Equal(t, []byte{1, 2, 3, 4, 5}, findNote(b.Bytes(), binary.LittleEndian, "GNU", 3))
	require.Nil(t, findNote(b.Bytes(), binary.LittleEndian, "GNU", 4))
	require.Nil(t, findNote(b.Bytes()[:20], binary.LittleEndian, "GNU", 3))
}

func FuzzFindNote(f *testing.F) {
	f.Add([]byte("\x04\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00GNU\x00\xab\xcd\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		findNote(b, binary.LittleEndian, "GNU", 3)
	})
}

// TestProcessInspection checks the memory map, status, DT_DEBUG slot and
// build id of a launched program.
func TestProcessInspection(t *testing.T) {
	prog := build(t, "basic", "-Wl,--build-id=sha1")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)

	ms, err := tr.MemoryMap(pid)
	require.NoError(t, err)
	load, ok, err := tr.FileLoadAddress(pid, prog)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, ms[0].Start, load, "the program is mapped first")
	_, ok, err = tr.FileLoadAddress(pid, "/no/such/file")
	require.NoError(t, err)
	require.False(t, ok)

	st, err := tr.Status(pid)
	require.NoError(t, err)
	require.Equal(t, os.Getpid(), st.PPID)
	require.Equal(t, os.Getuid(), st.UID)
	require.Equal(t, prog, st.Executable)

	m, err := tr.Module(pid, prog)
	require.NoError(t, err)
	require.Len(t, m.BuildID, 20)
	fi, err := os.Stat(prog)
	require.NoError(t, err)
	require.Equal(t, fi.Size(), m.Size)
	_, err = tr.Module(pid, "/etc/passwd")
	require.ErrorIs(t, err, ErrNotMapped)

	// At the first instruction the dynamic linker has not run: the slot
	// exists and holds 0. After main starts, it points to r_debug.
	slot, err := tr.DebugSlot(pid)
	require.NoError(t, err)
	require.NotZero(t, slot)
	work := symbol(t, tr, pid, prog, "work")
	require.NoError(t, tr.InsertBreakpoint(pid, work))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.EventBreakpoint, wait(t, tr).Kind)
	var ptr [8]byte
	_, err = tr.ReadMemory(pid, slot, ptr[:])
	require.NoError(t, err)
	rdebug := binary.LittleEndian.Uint64(ptr[:])
	require.NotZero(t, rdebug)
	var version [4]byte
	_, err = tr.ReadMemory(pid, rdebug, version[:])
	require.NoError(t, err)
	require.NotZero(t, binary.LittleEndian.Uint32(version[:]), "r_debug.r_version")

	_, err = tr.MemoryMap(pid + 1000000)
	require.ErrorIs(t, err, inferior.ErrNoProcess)
}

// TestSyscallInjection maps and unmaps memory in a stopped program and
// checks that its registers and code are as they were, and that it still
// runs to its normal end.
func TestSyscallInjection(t *testing.T) {
	prog := build(t, "basic")
	tr := newTracer(t)
	pid, out := launch(t, tr, prog)
	work := symbol(t, tr, pid, prog, "work")
	require.NoError(t, tr.InsertBreakpoint(pid, work))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.EventBreakpoint, wait(t, tr).Kind)

	before, err := tr.Registers(pid, pid, true)
	require.NoError(t, err)
	gpr := before.GPR
	var code [8]byte
	_, err = tr.ReadMemory(pid, work, code[:])
	require.NoError(t, err)

	addr, err := tr.Mmap(pid, pid, 0x2000, unix.PROT_READ|unix.PROT_WRITE)
	require.NoError(t, err)
	require.NotZero(t, addr)
	n, err := tr.WriteMemory(pid, addr+0x1000, []byte("hello"))
	require.NoError(t, err)
	require.Equal(t, 5, n)
	ms, err := tr.MemoryMap(pid)
	require.NoError(t, err)
	found := false
	for _, m := range ms {
		if m.Start <= addr && addr+0x2000 <= m.End && m.Perms[:2] == "rw" {
			found = true
		}
	}
	require.True(t, found, "mapping at %#x in %+v", addr, ms)

	after, err := tr.Registers(pid, pid, false)
	require.NoError(t, err)
	require.Equal(t, gpr, after.GPR, "registers restored")
	var code2 [8]byte
	_, err = tr.ReadMemory(pid, work, code2[:])
	require.NoError(t, err)
	require.Equal(t, code, code2, "code restored")

	require.NoError(t, tr.Munmap(pid, pid, addr, 0x2000))
	_, err = tr.ReadMemory(pid, addr, code2[:])
	require.Error(t, err, "unmapped")

	// A failing call reports the errno and still restores everything.
	_, err = tr.Syscall(pid, pid, unix.SYS_MUNMAP, 1, 0x1000)
	require.ErrorIs(t, err, ErrSyscallFailed)
	require.True(t, errors.Is(err, unix.EINVAL))
	after, err = tr.Registers(pid, pid, false)
	require.NoError(t, err)
	require.Equal(t, gpr, after.GPR)

	require.NoError(t, tr.RemoveBreakpoint(pid, work))
	require.NoError(t, tr.Resume(all))
	ev := wait(t, tr)
	require.Equal(t, inferior.EventExited, ev.Kind)
	require.Equal(t, 7, ev.ExitCode)
	b, err := os.ReadFile(out.Name())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(b), "sum="), "%q", b)
}

// TestSyscallInjectionInterruptedSleep borrows a thread stopped inside a
// system call (usleep, interrupted): the kernel must still restart the
// program's sleep afterwards, and the program must run on as if nothing
// happened.
func TestSyscallInjectionInterruptedSleep(t *testing.T) {
	prog := build(t, "spin")
	tr := newTracer(t)
	pid, out := launch(t, tr, prog, "10")
	require.NoError(t, tr.Resume(all))
	// Interrupt it once it sleeps (clock_nanosleep, for usleep).
	blockedIn(t, pid, unix.SYS_CLOCK_NANOSLEEP)
	require.NoError(t, tr.Interrupt())
	require.Equal(t, inferior.EventSignal, wait(t, tr).Kind)

	before, err := tr.Registers(pid, pid, false)
	require.NoError(t, err)
	gpr := before.GPR
	t.Logf("stopped with orig_rax=%d rax=%d", int64(gpr.Orig_rax), int64(gpr.Rax))
	for range 3 {
		addr, err := tr.Mmap(pid, pid, 0x1000, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC)
		require.NoError(t, err)
		require.NoError(t, tr.Munmap(pid, pid, addr, 0x1000))
	}
	after, err := tr.Registers(pid, pid, false)
	require.NoError(t, err)
	require.Equal(t, gpr, after.GPR)

	require.NoError(t, tr.Resume(all))
	ev := wait(t, tr)
	require.Equal(t, inferior.Event{Kind: inferior.EventExited, PID: pid, ExitCode: 0}, ev)
	b, err := os.ReadFile(out.Name())
	require.NoError(t, err)
	require.Equal(t, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", string(b))
}
