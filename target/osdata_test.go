package target

import (
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// statLine returns a /proc stat line with the process group (field 5)
// and last CPU (field 39) given, and zeros elsewhere.
func statLine(pid int, comm string, pgrp, cpu int) string {
	f := make([]string, 52)
	for i := range f {
		f[i] = "0"
	}
	f[0], f[1], f[2] = strconv.Itoa(pid), "("+comm+")", "S"
	f[4], f[38] = strconv.Itoa(pgrp), strconv.Itoa(cpu)
	return strings.Join(f, " ") + "\n"
}

// fakeProc builds a /proc tree in a temporary directory from files
// (path: content) and symbolic links (path: "->target").
func fakeProc(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		if target, ok := strings.CutPrefix(content, "->"); ok {
			require.NoError(t, os.Symlink(target, p))
			continue
		}
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return root
}

// table walks a table of w and returns its items as column=value lists.
func table(t *testing.T, w *osWalker, typ string) []string {
	t.Helper()
	var items []string
	require.NoError(t, w.walk(typ, func(columns, values []string) bool {
		require.Len(t, values, len(columns))
		kv := make([]string, len(columns))
		for i := range columns {
			kv[i] = columns[i] + "=" + values[i]
		}
		items = append(items, strings.Join(kv, "|"))
		return true
	}))
	return items
}

func TestOSDataTables(t *testing.T) {
	me, err := user.Current()
	require.NoError(t, err)
	root := fakeProc(t, map[string]string{
		"1/stat":          statLine(1, "init", 1, 1),
		"1/cmdline":       "/sbin/init\x00splash\x00",
		"1/task/1/stat":   statLine(1, "init", 1, 1),
		"1/task/9/stat":   statLine(9, "init", 1, 0),
		"1/task/12/stat":  statLine(12, "init", 1, 1),
		"1/fd/0":          "->/dev/null",
		"1/fd/3":          "->socket:[123]",
		"42/stat":         statLine(42, "kworker/0:1", 0, 3),
		"42/cmdline":      "",
		"42/task/42/stat": statLine(42, "kworker/0:1", 0, 3),
		"77/stat":         statLine(77, "a (b) c", 70, 0),
		"77/cmdline":      "sleep\x0010\x00",
		"70/stat":         statLine(70, "sh", 70, 0),
		"70/cmdline":      "sh\x00-c\x00sleep 10",
		"69/stat":         statLine(69, "sleep", 70, 0),
		"69/cmdline":      "sleep\x001",
		"self":            "->1",
		"cpuinfo": "processor\t: 0\nvendor_id\t: Acme\nflags\t\t: fpu sse\npower management:\n\n" +
			"processor\t: 1\nvendor_id\t: Acme\nmodel name\t: x: y\n\n",
		"modules": "ext4 1015808 1 - Live 0xffffffffc0a00000\nbad line\n" +
			"crc16 12288 1 ext4, Live 0xffffffffc0900000 (E)\n",
		"net/tcp": "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
			"   0: 0100007F:8901 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 62119 1 0 100 0 0 10 0\n" +
			"   1: 0100007F:1F90 0200007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 62120 1 0 100 0 0 10 0\n",
		"net/udp6": "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
			"  5: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0 0\n",
		"sysvipc/shm": "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n" +
			"         0          5  1600                  4096    70    77      2     0     0     0     0          0          0 1700000000                  4096                     0\n",
		"sysvipc/msg": "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n" +
			"      1234          0   666          10          1    77     0     0     0     0     0 1700000000          0 1700000000\n",
	})
	w := newOSWalker(root)
	owner := me.Username

	require.Equal(t, []string{
		"pid=1|user=" + owner + "|command=/sbin/init splash|cores=0,1",
		"pid=42|user=" + owner + "|command=[kworker/0:1]|cores=3",
		"pid=69|user=" + owner + "|command=sleep 1|cores=",
		"pid=70|user=" + owner + "|command=sh -c sleep 10|cores=",
		"pid=77|user=" + owner + "|command=sleep 10|cores=",
	}, table(t, w, "processes"))

	require.Equal(t, []string{
		"pid=1|command=init|tid=1|core=1",
		"pid=1|command=init|tid=9|core=0",
		"pid=1|command=init|tid=12|core=1",
		"pid=42|command=kworker/0:1|tid=42|core=3",
	}, table(t, w, "threads"))

	require.Equal(t, []string{
		"pid=1|command=init|file descriptor=0|name=/dev/null",
		"pid=1|command=init|file descriptor=3|name=socket:[123]",
	}, table(t, w, "files"))

	require.Equal(t, []string{
		"pgid=1|leader command=init|pid=1|command line=/sbin/init splash",
		"pgid=70|leader command=sh|pid=70|command line=sh -c sleep 10",
		"pgid=70|leader command=sh|pid=69|command line=sleep 1",
		"pgid=70|leader command=sh|pid=77|command line=sleep 10",
	}, table(t, w, "procgroups"))

	require.Equal(t, []string{
		"processor=0|vendor_id=Acme|flags=fpu sse|power management=",
		"processor=1|vendor_id=Acme|model name=x: y",
	}, table(t, w, "cpus"))

	require.Equal(t, []string{
		"name=ext4|size=1015808|num uses=1|dependencies=-|status=Live|address=ffffffffc0a00000",
		"name=crc16|size=12288|num uses=1|dependencies=ext4,|status=Live|address=ffffffffc0900000",
	}, table(t, w, "modules"))

	root0 := w.user("0")
	require.Equal(t, []string{
		"local address=127.0.0.1|local port=35073|remote address=0.0.0.0|remote port=0|state=LISTEN|user=" + root0 + "|family=INET|protocol=STREAM",
		"local address=127.0.0.1|local port=8080|remote address=127.0.0.2|remote port=54321|state=ESTABLISHED|user=" + root0 + "|family=INET|protocol=STREAM",
		"local address=::1|local port=53|remote address=::|remote port=0|state=CLOSE|user=" + root0 + "|family=INET6|protocol=DGRAM",
	}, table(t, w, "sockets"))

	when := time.Unix(1700000000, 0).Format(time.ANSIC)
	group0 := w.group("0")
	require.Equal(t, []string{
		"key=0|shmid=5|permissions=1600|size=4096|creator command=sh|last op. command=a (b) c|num attached=2|" +
			"user=" + root0 + "|group=" + group0 + "|creator user=" + root0 + "|creator group=" + group0 +
			"|last shmat() time=|last shmdt() time=|last shmctl() time=" + when,
	}, table(t, w, "shm"))
	require.Equal(t, []string{
		"key=1234|msqid=0|permissions=666|num used bytes=10|num messages=1|last msgsnd() command=a (b) c|last msgrcv() command=|" +
			"user=" + root0 + "|group=" + group0 + "|creator user=" + root0 + "|creator group=" + group0 +
			"|last msgsnd() time=" + when + "|last msgrcv() time=|last msgctl() time=" + when,
	}, table(t, w, "msg"))
	require.Empty(t, table(t, w, "semaphores")) // no such file

	require.ErrorIs(t, w.walk("nosuch", nil), ErrUnknownOSData)
	types := OSDataTypes()
	require.Len(t, types, len(osTables))
	require.True(t, slices.IsSortedFunc(types, func(a, b OSDataType) int { return strings.Compare(a.Type, b.Type) }))
}

// TestOSDataStops checks that a walk ends when the item function says so.
func TestOSDataStops(t *testing.T) {
	for _, typ := range []string{"processes", "threads", "files", "sockets", "cpus"} {
		n := 0
		require.NoError(t, OSData(typ, func(_, _ []string) bool { n++; return false }), typ)
		require.LessOrEqual(t, n, 1, typ)
	}
}

// TestOSDataLive finds this test process in the real /proc: its command
// line, a thread, a file it holds open and a socket it listens on.
func TestOSDataLive(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	f, err := os.CreateTemp(t.TempDir(), "osdata")
	require.NoError(t, err)
	defer f.Close()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)

	find := func(typ string, match func(m map[string]string) bool) map[string]string {
		t.Helper()
		var found map[string]string
		require.NoError(t, OSData(typ, func(columns, values []string) bool {
			m := map[string]string{}
			for i, c := range columns {
				m[c] = values[i]
			}
			if match(m) {
				found = m
				return false
			}
			return true
		}))
		require.NotNil(t, found, "%s: no matching item", typ)
		return found
	}
	p := find("processes", func(m map[string]string) bool { return m["pid"] == pid })
	require.Equal(t, strings.Join(os.Args, " "), p["command"])
	require.Regexp(t, `^\d+(,\d+)*$`, p["cores"])
	find("threads", func(m map[string]string) bool { return m["pid"] == pid && m["tid"] == pid })
	find("files", func(m map[string]string) bool {
		return m["pid"] == pid && m["file descriptor"] == fmt.Sprint(f.Fd()) && m["name"] == f.Name()
	})
	find("sockets", func(m map[string]string) bool {
		return m["local address"] == "127.0.0.1" && m["local port"] == port && m["state"] == "LISTEN"
	})
	find("cpus", func(m map[string]string) bool { return m["processor"] == "0" })
}
