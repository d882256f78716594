package rsp

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"slices"
	"strconv"

	"procgdb/inferior"
)

// qXfer reads, per the manual's "General Query Packets" section
// (qXfer:object:read:annex:offset,length), "Thread List Format" and
// "Library List Format for SVR4 Targets": the client reads an object in
// windows; each reply is 'm' and data when more follows, 'l' and data for
// the last window, binary data that the framing escapes. An offset at the
// end of the object gets "l" alone.
//
// An object that is generated (the thread and library lists) is made once
// when its first window is read and kept until the target runs again, so
// that all windows come from one snapshot.
//
// One object is written too (qXfer:object:write:annex:offset:data, data
// binary and escaped by the framing; the reply is how many bytes were
// written, in hex): siginfo, the siginfo_t the current thread's signal
// will be delivered with.

// xferPackets are the dispatch-table rows of the qXfer objects.
func xferPackets() []entry {
	return []entry{
		{prefix: "qXfer:features:read:", feature: "qXfer:features:read+", enabled: hasTargetXML, handle: (*Session).xferFeatures},
		{prefix: "qXfer:auxv:read:", feature: "qXfer:auxv:read+", handle: (*Session).xferAuxv},
		{prefix: "qXfer:exec-file:read:", feature: "qXfer:exec-file:read+", handle: (*Session).xferExecFile},
		{prefix: "qXfer:threads:read:", feature: "qXfer:threads:read+", handle: (*Session).xferThreads},
		{prefix: "qXfer:libraries-svr4:read:", feature: "qXfer:libraries-svr4:read+", handle: (*Session).xferLibraries},
		{prefix: "qXfer:siginfo:read:", feature: "qXfer:siginfo:read+", handle: (*Session).xferSiginfo},
		{prefix: "qXfer:osdata:read:", feature: "qXfer:osdata:read+", enabled: isOSDataSource, handle: (*Session).xferOSData},
		{prefix: "qXfer:siginfo:write:", feature: "qXfer:siginfo:write+", enabled: isSiginfoWriter, handle: (*Session).xferSiginfoWrite},
	}
}

func hasTargetXML(s *Session) bool { return len(s.cfg.TargetXML) > 0 }

// xferRead is a qXfer read request, after "qXfer:object:read:".
type xferRead struct {
	annex  string
	offset uint64
	length uint64
}

// parseXfer decodes "annex:offset,length".
func parseXfer(b []byte) (xferRead, error) {
	i := bytes.LastIndexByte(b, ':')
	if i < 0 {
		return xferRead{}, fmt.Errorf("%q: missing ':offset,length': %w", b, errMalformed)
	}
	w, err := parseMemRead(b[i+1:])
	if err != nil {
		return xferRead{}, err
	}
	return xferRead{annex: string(b[:i]), offset: w.addr, length: w.length}, nil
}

// appendXfer encodes r as parseXfer decodes it.
func appendXfer(dst []byte, r xferRead) []byte {
	dst = append(append(dst, r.annex...), ':')
	return appendMemRead(dst, memRead{addr: r.offset, length: r.length})
}

// xferWrite is a qXfer write request, after "qXfer:object:write:".
type xferWrite struct {
	annex  string
	offset uint64
	data   []byte
}

// parseXferWrite decodes "annex:offset:data"; data, which may hold any
// byte, ':' included, aliases b.
func parseXferWrite(b []byte) (xferWrite, error) {
	annex, rest, ok := bytes.Cut(b, []byte(":"))
	if !ok {
		return xferWrite{}, fmt.Errorf("%.40q: missing ':offset:data': %w", b, errMalformed)
	}
	off, data, ok := bytes.Cut(rest, []byte(":"))
	if !ok {
		return xferWrite{}, fmt.Errorf("%.40q: missing ':data': %w", rest, errMalformed)
	}
	offset, err := parseHexUint(off)
	if err != nil {
		return xferWrite{}, fmt.Errorf("offset %q: %w", off, err)
	}
	return xferWrite{annex: string(annex), offset: offset, data: data}, nil
}

// appendXferWrite encodes w as parseXferWrite decodes it.
func appendXferWrite(dst []byte, w xferWrite) []byte {
	dst = append(append(dst, w.annex...), ':')
	dst = append(appendHexUint(dst, w.offset), ':')
	return append(dst, w.data...)
}

// errBadAnnex rejects an annex the object does not have.
var errBadAnnex = &protoError{codeInvalid, "unknown annex"}

// xfer serves one window of object, generating its document with gen when
// the window is the first one or the object is not the one cached.
func (s *Session) xfer(object string, args []byte, gen func(annex string) ([]byte, error)) reply {
	r, err := parseXfer(args)
	if err != nil {
		return errorReply(err)
	}
	key := object + ":" + r.annex
	if r.offset == 0 || key != s.xferKey {
		doc, err := gen(r.annex)
		if err != nil {
			return errorReply(err)
		}
		s.xferKey, s.xferDoc = key, doc
	}
	doc := s.xferDoc
	if r.offset > uint64(len(doc)) {
		return errorReply(fmt.Errorf("offset %#x beyond the object's %#x bytes: %w", r.offset, len(doc), errMalformed))
	}
	rest := doc[r.offset:]
	n := min(r.length, packetSize-1)
	if uint64(len(rest)) <= n {
		s.buf = append(append(s.buf[:0], 'l'), rest...)
	} else {
		s.buf = append(append(s.buf[:0], 'm'), rest[:n]...)
	}
	return dataReply(s.buf)
}

// noAnnex rejects an annex for objects that have none.
func noAnnex(annex string) error {
	if annex != "" {
		return fmt.Errorf("annex %q: %w", annex, errBadAnnex)
	}
	return nil
}

// xferFeatures serves the target description.
func (s *Session) xferFeatures(args []byte) reply {
	return s.xfer("features", args, func(annex string) ([]byte, error) {
		if annex != "target.xml" {
			return nil, fmt.Errorf("annex %q: %w", annex, errBadAnnex)
		}
		return s.cfg.TargetXML, nil
	})
}

// xferAuxv serves the current process's auxiliary vector.
func (s *Session) xferAuxv(args []byte) reply {
	return s.xfer("auxv", args, func(annex string) ([]byte, error) {
		if err := noAnnex(annex); err != nil {
			return nil, err
		}
		pid, err := s.currentProcess()
		if err != nil {
			return nil, err
		}
		return s.t.Auxv(pid)
	})
}

// xferExecFile serves the path of a process's executable: the process the
// annex names in hex, or the current one when the annex is empty.
func (s *Session) xferExecFile(args []byte) reply {
	return s.xfer("exec-file", args, func(annex string) ([]byte, error) {
		pid, err := s.annexProcess(annex)
		if err != nil {
			return nil, err
		}
		path, err := s.t.ExecFile(pid)
		return []byte(path), err
	})
}

// annexProcess returns the process named by a hex annex, or the current
// process for an empty one.
func (s *Session) annexProcess(annex string) (int, error) {
	if annex == "" {
		return s.currentProcess()
	}
	pid, err := parseHexInt([]byte(annex))
	if err != nil {
		return 0, fmt.Errorf("annex %q: %w", annex, err)
	}
	return pid, s.knownProcess(pid)
}

// xferThreads serves the list of threads of every process.
func (s *Session) xferThreads(args []byte) reply {
	return s.xfer("threads", args, func(annex string) ([]byte, error) {
		if err := noAnnex(annex); err != nil {
			return nil, err
		}
		return s.threadsXML()
	})
}

// threadsXML builds the thread list document.
func (s *Session) threadsXML() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\"?>\n<threads>\n")
	for _, pid := range s.t.Processes() {
		threads, err := s.t.Threads(pid)
		if err != nil {
			return nil, fmt.Errorf("threads of %d: %w", pid, err)
		}
		for _, tid := range threads {
			t := inferior.ThreadID{PID: pid, TID: tid}
			name, core, ok := s.t.ThreadInfo(t)
			if !ok {
				continue // it exited since Threads listed it
			}
			b.WriteString(`<thread id="`)
			b.Write(appendThreadID(nil, t, s.multiprocess))
			b.WriteString(`"`)
			if core >= 0 {
				b.WriteString(` core="`)
				b.WriteString(strconv.Itoa(core))
				b.WriteString(`"`)
			}
			b.WriteString(` name="`)
			if err := xml.EscapeText(&b, []byte(name)); err != nil {
				return nil, err
			}
			b.WriteString("\"/>\n")
		}
	}
	b.WriteString("</threads>\n")
	return b.Bytes(), nil
}

// xferLibraries serves the dynamic linker's list of loaded objects of the
// current process. The annex of augmented requests (start=...;prev=...)
// is only sent to stubs that advertise augmented-libraries-svr4-read,
// which procgdb does not; it is ignored.
func (s *Session) xferLibraries(args []byte) reply {
	return s.xfer("libraries-svr4", args, func(string) ([]byte, error) {
		pid, err := s.currentProcess()
		if err != nil {
			return nil, err
		}
		mainLM, libs, err := s.t.Libraries(pid)
		if err != nil {
			return nil, err
		}
		return librariesXML(mainLM, libs)
	})
}

// librariesXML builds the SVR4 library list document.
func librariesXML(mainLM uint64, libs []inferior.Library) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<library-list-svr4 version="1.0"`)
	if mainLM != 0 {
		fmt.Fprintf(&b, ` main-lm="%#x"`, mainLM)
	}
	b.WriteString(">\n")
	for _, l := range libs {
		b.WriteString(`<library name="`)
		if err := xml.EscapeText(&b, []byte(l.Name)); err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, `" lm="%#x" l_addr="%#x" l_ld="%#x" lmid="0x0"/>`+"\n", l.LM, l.Addr, l.LD)
	}
	b.WriteString("</library-list-svr4>\n")
	return b.Bytes(), nil
}

// xferSiginfo serves the siginfo_t of the current thread's last signal.
func (s *Session) xferSiginfo(args []byte) reply {
	return s.xfer("siginfo", args, func(annex string) ([]byte, error) {
		if err := noAnnex(annex); err != nil {
			return nil, err
		}
		t, err := s.currentThread()
		if err != nil {
			return nil, err
		}
		return s.t.Siginfo(t)
	})
}

// isSiginfoWriter says whether the session offers qXfer:siginfo:write.
func isSiginfoWriter(s *Session) bool {
	_, ok := s.t.(SiginfoWriter)
	return ok
}

// xferSiginfoWrite changes bytes of the siginfo_t of the current thread's
// last signal (gdb writes one field of $_siginfo at its offset): it reads
// the whole, patches it, and has the target store the whole. Bytes past
// the end of the siginfo_t are not written, and the reply says so.
func (s *Session) xferSiginfoWrite(args []byte) reply {
	w, err := parseXferWrite(args)
	if err == nil {
		err = noAnnex(w.annex)
	}
	if err != nil {
		return errorReply(err)
	}
	t, err := s.currentThread()
	if err != nil {
		return errorReply(err)
	}
	info, err := s.t.Siginfo(t)
	if err != nil {
		return errorReply(err)
	}
	if w.offset > uint64(len(info)) || (w.offset == uint64(len(info)) && len(w.data) > 0) {
		return errorReply(fmt.Errorf("offset %#x beyond the %#x bytes of siginfo: %w", w.offset, len(info), errMalformed))
	}
	info = slices.Clone(info)
	n := copy(info[w.offset:], w.data)
	if err := s.t.(SiginfoWriter).SetSiginfo(t, info); err != nil {
		return errorReply(err)
	}
	// A read of siginfo in windows must see what was written.
	s.dropSnapshots()
	s.buf = appendHexUint(s.buf[:0], uint64(n))
	return dataReply(s.buf)
}
