package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/emporiumhq/emporium/internal/platform/audit"
)

// readPrefixes start the names of RPCs that only read.
var readPrefixes = []string{"Get", "List", "Search", "Lookup", "Preview", "Export", "Verify", "Check", "Batch"}

// TestStaffReadsAreNotAudited holds the audit log's convention: a staff or
// admin RPC is recorded unless it is marked NO_SIDE_EFFECTS, so every RPC
// named like a read must be marked, or the log fills with reads.
func TestStaffReadsAreNotAudited(t *testing.T) {
	t.Parallel()
	var recorded int
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(f.Package()), "emporium.") {
			return true
		}
		for i := range f.Services().Len() {
			methods := f.Services().Get(i).Methods()
			for j := range methods.Len() {
				md := methods.Get(j)
				if !audit.Recorded(md) {
					continue
				}
				recorded++
				for _, p := range readPrefixes {
					if strings.HasPrefix(string(md.Name()), p) {
						t.Errorf("%s reads but is recorded in the audit log: mark it option idempotency_level = NO_SIDE_EFFECTS", md.FullName())
					}
				}
			}
		}
		return true
	})
	if recorded < 10 {
		t.Errorf("%d RPCs are recorded in the audit log, want every staff and admin mutation (at least 10)", recorded)
	}
}
