package rsp

import (
	"fmt"
	"strings"
)

// Disabled says which parts of the protocol a session leaves out, as
// gdbserver's --disable-packet does: clients are tested against minimal
// stubs this way. A disabled packet gets the empty reply and is not
// offered in qSupported.
type Disabled struct {
	VCont        bool // vCont and vCont?: the client resumes with c, s, C and S
	TStop        bool // T stop replies: S replies, with the signal alone
	TThread      bool // the thread: field of T stop replies
	QC           bool // qC
	QfThreadInfo bool // qfThreadInfo and qsThreadInfo
}

// DisableNames describes the names ParseDisabled takes, one per line,
// for a --disable-packet without a list.
const DisableNames = `vCont         vCont and vCont? (the client resumes with c, s, C, S)
T             T stop replies (S replies, with the signal alone)
Tthread       the thread: field of T stop replies
qC            qC, the current thread
qfThreadInfo  qfThreadInfo and qsThreadInfo, the thread list
threads       vCont, Tthread, qC and qfThreadInfo
`

// ParseDisabled reads gdbserver's --disable-packet list: names from
// DisableNames, separated by commas.
func ParseDisabled(list string) (Disabled, error) {
	var d Disabled
	for _, name := range strings.Split(list, ",") {
		switch name {
		case "vCont":
			d.VCont = true
		case "T":
			d.TStop = true
		case "Tthread":
			d.TThread = true
		case "qC":
			d.QC = true
		case "qfThreadInfo":
			d.QfThreadInfo = true
		case "threads":
			d.VCont, d.TThread, d.QC, d.QfThreadInfo = true, true, true, true
		default:
			return Disabled{}, fmt.Errorf("cannot disable %q: want vCont, T, Tthread, qC, qfThreadInfo or threads", name)
		}
	}
	return d, nil
}

func vContOn(s *Session) bool      { return !s.cfg.Disable.VCont }
func qCOn(s *Session) bool         { return !s.cfg.Disable.QC }
func threadListOn(s *Session) bool { return !s.cfg.Disable.QfThreadInfo }
