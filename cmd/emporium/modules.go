package main

import (
	"fmt"
	"strings"

	"github.com/emporiumhq/emporium/internal/platform/module"
	"github.com/emporiumhq/emporium/svc/notification"
	"github.com/emporiumhq/emporium/svc/order"
	"github.com/emporiumhq/emporium/svc/payment"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/shipping/fedex"
	"github.com/emporiumhq/emporium/svc/shipping/ups"
	"github.com/emporiumhq/emporium/svc/user"
)

// modules are every deployable service behind the edge, in the order a
// process opens them. Adding a service is one line here and a package with
// its module.go; everything else (--services, --upstream, migrate, dev,
// serve, the edge's routes) comes from this list.
func modules() []module.Module {
	return []module.Module{
		&product.Module{},
		&user.Module{},
		&notification.Module{},
		&shipping.Module{Adapters: []shipping.CarrierAdapter{ups.Adapter, fedex.Adapter}},
		&payment.Module{},
		&order.Module{},
	}
}

// moduleNames are the services' names.
func moduleNames(mods []module.Module) []string {
	var names []string
	for _, m := range mods {
		names = append(names, m.Name())
	}
	return names
}

// find returns the module of type T in mods.
func find[T module.Module](mods []module.Module) T {
	for _, m := range mods {
		if t, ok := m.(T); ok {
			return t
		}
	}
	var zero T
	panic(fmt.Sprintf("no %T module", zero)) // the list above has every kind
}

// pick returns the modules named, in the list's order, or an error naming
// an unknown one; "edge" is allowed when edgeOK.
func pick(mods []module.Module, names []string, edgeOK bool) ([]module.Module, bool, error) {
	want := map[string]bool{}
	withEdge := false
	for _, n := range names {
		switch {
		case n == "edge" && edgeOK:
			withEdge = true
		case !known(mods, n):
			also := ""
			if edgeOK {
				also = " or edge"
			}
			return nil, false, fmt.Errorf("--services: unknown service %q (want %s%s)", n, strings.Join(moduleNames(mods), ", "), also)
		default:
			want[n] = true
		}
	}
	var out []module.Module
	for _, m := range mods {
		if want[m.Name()] {
			out = append(out, m)
		}
	}
	return out, withEdge, nil
}

func known(mods []module.Module, name string) bool {
	for _, m := range mods {
		if m.Name() == name {
			return true
		}
	}
	return false
}
