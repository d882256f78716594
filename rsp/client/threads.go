package client

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"procgdb/rsp"
)

// Thread is a thread of the target, as Threads lists it.
type Thread struct {
	ID   ThreadID
	Name string // empty when the stub does not say
	Core int    // the CPU it last ran on, -1 when the stub does not say
}

// Threads lists the threads of every process: with their names from
// qXfer:threads where the stub has it, else by id alone (qfThreadInfo,
// qsThreadInfo).
func (c *Client) Threads() ([]Thread, error) {
	if c.Supports("qXfer:threads:read") {
		doc, err := c.xfer("threads", "")
		if err != nil {
			return nil, fmt.Errorf("client: threads: %w", err)
		}
		return parseThreadList(doc)
	}
	var threads []Thread
	for q := "qfThreadInfo"; ; q = "qsThreadInfo" {
		r, err := c.request(q)
		if err != nil {
			return nil, fmt.Errorf("client: threads: %w", err)
		}
		ids, more, err := parseThreadInfo(r)
		if err != nil {
			return nil, fmt.Errorf("client: threads: %s: %w", q, err)
		}
		for _, id := range ids {
			threads = append(threads, Thread{ID: id, Core: -1})
		}
		if !more {
			return threads, nil
		}
		if len(threads) > maxThreads {
			return nil, fmt.Errorf("client: threads: more than %d", maxThreads)
		}
	}
}

// maxThreads bounds the thread list, against a stub that never says 'l'.
const maxThreads = 1 << 20

// parseThreadInfo decodes a qfThreadInfo or qsThreadInfo reply: 'm' and
// thread ids separated by commas, or 'l' at the end of the list.
func parseThreadInfo(r string) (ids []ThreadID, more bool, err error) {
	if r == "l" {
		return nil, false, nil
	}
	list, ok := strings.CutPrefix(r, "m")
	if !ok {
		return nil, false, fmt.Errorf("reply %.40q: want m or l", r)
	}
	for f := range strings.SplitSeq(list, ",") {
		id, err := rsp.ParseThreadID([]byte(f))
		if err != nil {
			return nil, false, err
		}
		ids = append(ids, id)
	}
	return ids, true, nil
}

// parseThreadList decodes the thread list document of qXfer:threads:
// <threads><thread id="p1.2" core="0" name="main">extra</thread>...
func parseThreadList(doc []byte) ([]Thread, error) {
	var list struct {
		Threads []struct {
			ID   string `xml:"id,attr"`
			Core string `xml:"core,attr"`
			Name string `xml:"name,attr"`
		} `xml:"thread"`
	}
	if err := xml.NewDecoder(bytes.NewReader(doc)).Decode(&list); err != nil {
		return nil, fmt.Errorf("thread list: %w", err)
	}
	threads := make([]Thread, 0, len(list.Threads))
	for _, t := range list.Threads {
		id, err := rsp.ParseThreadID([]byte(t.ID))
		if err != nil {
			return nil, fmt.Errorf("thread list: %w", err)
		}
		th := Thread{ID: id, Name: t.Name, Core: -1}
		if t.Core != "" {
			// gdbserver and procgdb write it in decimal.
			if th.Core, err = strconv.Atoi(t.Core); err != nil {
				return nil, fmt.Errorf("thread list: thread %s: core %q", t.ID, t.Core)
			}
		}
		threads = append(threads, th)
	}
	return threads, nil
}

// Processes lists the processes being debugged, from the thread list.
func (c *Client) Processes() ([]int, error) {
	threads, err := c.Threads()
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, t := range threads {
		if !slices.Contains(pids, t.ID.PID) {
			pids = append(pids, t.ID.PID)
		}
	}
	return pids, nil
}
