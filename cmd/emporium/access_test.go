package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/emporiumhq/emporium/internal/platform/authz"
)

// TestEveryRPCDeclaresAnAccessRule walks every Emporium service linked into
// the binary: a new RPC without an access rule fails here, whichever
// service it belongs to.
func TestEveryRPCDeclaresAnAccessRule(t *testing.T) {
	t.Parallel()
	var services []protoreflect.ServiceDescriptor
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if strings.HasPrefix(string(f.Package()), "emporium.") {
			for i := range f.Services().Len() {
				services = append(services, f.Services().Get(i))
			}
		}
		return true
	})
	if len(services) < 4 {
		t.Fatalf("found %d Emporium services, want at least product, inventory, user and auth", len(services))
	}
	if missing := authz.AuditRules(services...); len(missing) > 0 {
		t.Errorf("RPCs without an access rule: %v", missing)
	}
	for _, m := range modules() {
		for _, name := range m.Routes().Services {
			if _, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name)); err != nil {
				t.Errorf("module %s names %s, which the binary does not know: %v", m.Name(), name, err)
			}
		}
	}
}
