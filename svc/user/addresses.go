package user

import (
	"context"
	"regexp"
	"slices"
	"strings"

	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// addressPaths are the field-mask paths UpdateAddress accepts.
var addressPaths = []string{
	"name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone",
	"default_shipping", "default_billing",
}

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// checkAddress applies the API's address rules to a whole address, after a
// partial update too.
func checkAddress(a *addressRow) error {
	for _, f := range []struct {
		name     string
		v        string
		required bool
		max      int
	}{
		{"name", a.Name, true, 200}, {"company", a.Company, false, 200},
		{"line1", a.Line1, true, 200}, {"line2", a.Line2, false, 200},
		{"city", a.City, true, 100}, {"region", a.Region, false, 100},
		{"postal_code", a.PostalCode, false, 20}, {"phone", a.Phone, false, 30},
	} {
		if f.required && strings.TrimSpace(f.v) == "" {
			return errs.Invalidf("address.%s is required", f.name)
		}
		if err := checkText("address."+f.name, f.v, f.max); err != nil {
			return err
		}
	}
	if !countryPattern.MatchString(a.Country) {
		return errs.Invalidf("address.country %q is not an ISO 3166-1 alpha-2 code like US", a.Country)
	}
	return nil
}

// ListAddresses implements UserService.
func (s *Service) ListAddresses(ctx context.Context, _ *userv1.ListAddressesRequest) (*userv1.ListAddressesResponse, error) {
	u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.addresses(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	res := &userv1.ListAddressesResponse{Addresses: make([]*userv1.Address, len(rows))}
	for i, r := range rows {
		res.Addresses[i] = r.toProto()
	}
	return res, nil
}

// AddAddress implements UserService.
func (s *Service) AddAddress(ctx context.Context, req *userv1.AddAddressRequest) (*userv1.AddAddressResponse, error) {
	u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	in := req.GetAddress()
	now := micros(s.now())
	row := &addressRow{
		ID: newID(), UserID: u.ID, // never in.Id: ids are ours to give
		Name: in.GetName(), Company: in.GetCompany(), Line1: in.GetLine1(), Line2: in.GetLine2(),
		City: in.GetCity(), Region: in.GetRegion(), PostalCode: in.GetPostalCode(),
		Country: in.GetCountry(), Phone: in.GetPhone(),
		DefaultShipping: in.GetDefaultShipping(), DefaultBilling: in.GetDefaultBilling(),
		CreatedAt: now, UpdatedAt: now,
	}
	if err := checkAddress(row); err != nil {
		return nil, err
	}
	if err := s.store.addAddress(ctx, row); err != nil {
		return nil, err
	}
	return &userv1.AddAddressResponse{Address: row.toProto()}, nil
}

// UpdateAddress implements UserService.
func (s *Service) UpdateAddress(ctx context.Context, req *userv1.UpdateAddressRequest) (*userv1.UpdateAddressResponse, error) {
	in := req.GetAddress()
	if in.GetId() == "" {
		return nil, errs.Invalidf("address.id is required")
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, errs.Invalidf("update_mask must name at least one field")
	}
	for _, p := range paths {
		if !slices.Contains(addressPaths, p) {
			return nil, errs.Invalidf("update_mask: %q cannot be updated; use one of %v", p, addressPaths)
		}
	}
	u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	row, err := s.store.updateAddress(ctx, u.ID, in.GetId(), func(a *addressRow) error {
		for _, p := range paths {
			switch p {
			case "name":
				a.Name = in.GetName()
			case "company":
				a.Company = in.GetCompany()
			case "line1":
				a.Line1 = in.GetLine1()
			case "line2":
				a.Line2 = in.GetLine2()
			case "city":
				a.City = in.GetCity()
			case "region":
				a.Region = in.GetRegion()
			case "postal_code":
				a.PostalCode = in.GetPostalCode()
			case "country":
				a.Country = in.GetCountry()
			case "phone":
				a.Phone = in.GetPhone()
			case "default_shipping":
				a.DefaultShipping = in.GetDefaultShipping()
			case "default_billing":
				a.DefaultBilling = in.GetDefaultBilling()
			}
		}
		a.UpdatedAt = micros(s.now())
		return checkAddress(a)
	})
	if err != nil {
		return nil, err
	}
	return &userv1.UpdateAddressResponse{Address: row.toProto()}, nil
}

// DeleteAddress implements UserService.
func (s *Service) DeleteAddress(ctx context.Context, req *userv1.DeleteAddressRequest) (*userv1.DeleteAddressResponse, error) {
	u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.store.deleteAddress(ctx, u.ID, req.GetId()); err != nil {
		return nil, err
	}
	return &userv1.DeleteAddressResponse{}, nil
}
