//go:build linux

package procdir

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"procgdb/internal/dirwatch"
)

// daemon runs a Dir on args[0] (polling when args[1] is "poll", else
// with process events where it may) as a
// process of its own, says "ready events" or "ready poll", and answers each line "usage" on stdin with its CPU
// time and memory: "USER_µs SYS_µs RSS_KiB PEAK_RSS_KiB".
func daemon(args []string) int {
	d, err := Watch(context.Background(), args[0], Options{Poll: args[1] == "poll"})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer d.Close()
	if d.Events() {
		fmt.Println("ready events")
	} else {
		fmt.Println("ready poll")
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var ru unix.Rusage
		unix.Getrusage(unix.RUSAGE_SELF, &ru)
		rss := statusKiB("VmRSS")
		fmt.Println(ru.Utime.Nano()/1e3, ru.Stime.Nano()/1e3, rss, ru.Maxrss)
	}
	return 0
}

// statusKiB reads a "kB" line of /proc/self/status.
func statusKiB(key string) int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// usage is the daemon's CPU time and memory at a moment.
type usage struct {
	cpu       time.Duration
	rss, peak int64 // KiB
}

func (p *testProc) usage(t testing.TB) usage {
	var u usage
	var user, sys int64
	_, err := fmt.Fprintln(p.in, "usage")
	require.NoError(t, err)
	line, err := p.out.ReadString('\n')
	require.NoError(t, err)
	_, err = fmt.Sscan(line, &user, &sys, &u.rss, &u.peak)
	require.NoError(t, err, line)
	u.cpu = time.Duration(user+sys) * time.Microsecond
	return u
}

// BenchmarkChurn measures a procgdb directory's cost while processes
// come and go and nobody connects, with process events and polling. Each
// iteration starts 1,000 processes (cat, waiting on one pipe), waits for
// their sockets, leaves them running for a while, ends them and waits for
// the sockets to go, then runs 1,000 processes that exit at once (true).
// Metrics: the daemon's CPU time for each phase, its memory with the
// sockets made, and the time from a process's start to its socket.
//
//	go test ./procdir -run X -bench Churn -benchtime 1x
func BenchmarkChurn(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root, to serve every user's processes")
	}
	for _, mode := range []string{"events", "poll"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "events" {
				fd, err := openEvents()
				if err != nil {
					b.Skipf("no process events here: %v", err)
				}
				unix.Close(fd)
			}
			for b.Loop() {
				churn(b, mode)
			}
		})
	}
}

const (
	churnProcs = 1000
	churnIdle  = 5 * time.Second
)

func churn(b *testing.B, mode string) {
	dir := tempDirIn(b, memoryDir())
	w, err := dirwatch.Watch(dir, 1<<16)
	require.NoError(b, err)
	b.Cleanup(func() { w.Close() })
	d := start(b, 0, "daemon", dir, mode)
	require.Equal(b, "ready "+mode, d.line(b))
	u0 := d.usage(b)

	r, wr, err := os.Pipe()
	require.NoError(b, err)
	started := map[int]time.Time{}
	cats := make([]*exec.Cmd, churnProcs)
	for i := range cats {
		cats[i] = exec.Command("cat")
		cats[i].Stdin = r
		require.NoError(b, cats[i].Start())
		started[cats[i].Process.Pid] = time.Now()
	}
	r.Close()
	var lat []time.Duration
	err = w.Until("sockets of the new processes", time.Minute, func(e dirwatch.Event) bool {
		pid, _ := strconv.Atoi(e.Name)
		if s, ok := started[pid]; ok && e.Made {
			lat = append(lat, e.At.Sub(s))
			delete(started, pid)
		}
		return len(started) == 0
	})
	require.NoError(b, err)
	u1 := d.usage(b)
	time.Sleep(churnIdle) // a measured stretch of time, not synchronisation
	u2 := d.usage(b)

	left := map[int]bool{}
	for _, c := range cats {
		left[c.Process.Pid] = true
	}
	wr.Close()
	for _, c := range cats {
		require.NoError(b, c.Wait())
	}
	err = w.Until("sockets of the ended processes removed", time.Minute, func(e dirwatch.Event) bool {
		pid, _ := strconv.Atoi(e.Name)
		if !e.Made {
			delete(left, pid)
		}
		return len(left) == 0
	})
	require.NoError(b, err)
	u3 := d.usage(b)
	for range churnProcs {
		require.NoError(b, exec.Command("true").Run())
	}
	u4 := d.usage(b)
	d.end(b)

	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	b.ReportMetric(ms(u1.cpu-u0.cpu), "cpu-ms-appear")
	b.ReportMetric(ms(u2.cpu-u1.cpu)/churnIdle.Seconds(), "cpu-ms/s-idle")
	b.ReportMetric(ms(u3.cpu-u2.cpu), "cpu-ms-vanish")
	b.ReportMetric(ms(u4.cpu-u3.cpu), "cpu-ms-brief")
	b.ReportMetric(float64(u0.rss)/1024, "MiB-rss-before")
	b.ReportMetric(float64(u2.rss)/1024, "MiB-rss-1000")
	b.ReportMetric(float64(u4.peak)/1024, "MiB-rss-peak")
	b.ReportMetric(ms(lat[len(lat)/2]), "ms-socket-p50")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "ms-socket-p99")
	b.ReportMetric(ms(lat[len(lat)-1]), "ms-socket-max")
}

// memoryDir is /dev/shm where it is a tmpfs, as /run (where a daemon keeps
// its sockets) is on most machines; else the default temporary directory.
// Sockets on a disk file system cost more: binding one took 0.4 ms of CPU
// on ext4 here, against about 0.1 ms for all a new process costs on tmpfs.
func memoryDir() string {
	var fs unix.Statfs_t
	if unix.Statfs("/dev/shm", &fs) == nil && fs.Type == unix.TMPFS_MAGIC {
		return "/dev/shm"
	}
	return ""
}
