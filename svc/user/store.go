package user

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// store holds every query of the user service. It works the same on SQLite
// and PostgreSQL. Methods taking a bun.Tx or a bun.IDB run inside the
// caller's transaction, begun with tx; the others on the database.
type store struct {
	db *bun.DB
}

// tx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise. fn must not call other services: on SQLite the
// transaction holds the only connection.
func (s *store) tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, fn)
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// maxAddresses is how many addresses one account may keep.
const maxAddresses = 50

var errEmailTaken = errs.Conflictf("an account with this email already exists")

// createUser stores a new account; errEmailTaken when its email is.
func (s *store) createUser(ctx context.Context, row *userRow) error {
	return s.insertUser(ctx, s.db, row)
}

func (s *store) insertUser(ctx context.Context, idb bun.IDB, row *userRow) error {
	if _, err := idb.NewInsert().Model(row).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return errEmailTaken
		}
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// userBy reads one account by column ("id" or "email"); errs.NotFound when
// there is none.
func (s *store) userBy(ctx context.Context, column, value string) (*userRow, error) {
	return s.user(ctx, s.db, column, value)
}

// user is userBy inside a transaction.
func (s *store) user(ctx context.Context, idb bun.IDB, column, value string) (*userRow, error) {
	row := new(userRow)
	err := idb.NewSelect().Model(row).Where("u."+column+" = ?", value).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("user not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return row, nil
}

// lockUser reads an account inside tx, locking its row on PostgreSQL so
// changes to one account (its addresses above all) happen one at a time.
// SQLite transactions here take the write lock up front anyway.
func lockUser(ctx context.Context, tx bun.Tx, id string) (*userRow, error) {
	row := new(userRow)
	q := tx.NewSelect().Model(row).Where("u.id = ?", id)
	if db.IsPostgres(tx) {
		q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.NotFoundf("user not found")
		}
		return nil, fmt.Errorf("read user: %w", err)
	}
	return row, nil
}

// updateUser reads an account inside a transaction, lets mutate change it,
// and writes it back.
func (s *store) updateUser(ctx context.Context, id string, mutate func(*userRow) error) (*userRow, error) {
	var out *userRow
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		row, err := lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := mutate(row); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(row).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
			if db.IsUniqueViolation(err) {
				return errEmailTaken
			}
			return fmt.Errorf("update user: %w", err)
		}
		out = row
		return nil
	})
	return out, err
}

// userFilter narrows ListUsers.
type userFilter struct {
	Query string      // part of the email or display name
	After *userCursor // keyset position, nil for the first page
	Limit int
}

// likeEscape makes s match itself literally in LIKE … ESCAPE '!'.
var likeEscape = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// listUsers pages accounts newest first.
func (s *store) listUsers(ctx context.Context, f userFilter) ([]*userRow, error) {
	var rows []*userRow
	q := s.db.NewSelect().Model(&rows)
	if f.Query != "" {
		pattern := "%" + likeEscape.Replace(strings.ToLower(f.Query)) + "%"
		// SQLite's LIKE ignores case for ASCII letters; PostgreSQL needs ILIKE.
		op := "LIKE"
		if db.IsPostgres(s.db) {
			op = "ILIKE"
		}
		q.Where("(u.email "+op+" ? ESCAPE '!' OR u.display_name "+op+" ? ESCAPE '!')", pattern, pattern)
	}
	if f.After != nil {
		q.Where("(u.created_at < ? OR (u.created_at = ? AND u.id < ?))", f.After.Created, f.After.Created, f.After.ID)
	}
	q.Order("u.created_at DESC", "u.id DESC").Limit(int64(f.Limit))
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return rows, nil
}

// createToken stores a new link token.
func (s *store) createToken(ctx context.Context, row *tokenRow) error {
	return s.insertToken(ctx, s.db, row)
}

func (s *store) insertToken(ctx context.Context, idb bun.IDB, row *tokenRow) error {
	if _, err := idb.NewInsert().Model(row).Exec(ctx); err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	return nil
}

var errBadLink = errs.Invalidf("this link has expired or was already used")

// validToken returns the unused, unexpired token with hash and purpose, or
// errBadLink. It does not consume it.
func (s *store) validToken(ctx context.Context, hash, purpose string, now int64) (*tokenRow, error) {
	row := new(tokenRow)
	err := s.db.NewSelect().Model(row).
		Where("t.token_hash = ?", hash).
		Where("t.purpose = ?", purpose).
		Where("t.used_at IS NULL").
		Where("t.expires_at > ?", now).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errBadLink
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	return row, nil
}

// consumeToken marks a token used and returns its user. The guarded UPDATE
// lets exactly one of any number of concurrent uses through; a used,
// expired or unknown token is errBadLink.
func consumeToken(ctx context.Context, tx bun.Tx, hash, purpose string, now int64) (userID string, err error) {
	err = tx.NewUpdate().Model((*tokenRow)(nil)).
		Set("used_at = ?", now).
		Where("token_hash = ?", hash).
		Where("purpose = ?", purpose).
		Where("used_at IS NULL").
		Where("expires_at > ?", now).
		Returning("user_id").
		Scan(ctx, &userID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errBadLink
	}
	if err != nil {
		return "", fmt.Errorf("use token: %w", err)
	}
	return userID, nil
}

// useToken consumes a token and applies change to its (active) account in
// the same transaction: the token is spent only if the change is made.
func (s *store) useToken(ctx context.Context, hash, purpose string, now int64, change func(ctx context.Context, tx bun.Tx, u *userRow) error) (*userRow, error) {
	var out *userRow
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		id, err := consumeToken(ctx, tx, hash, purpose, now)
		if err != nil {
			return err
		}
		u, err := lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.Status != statusActive {
			return errBadLink
		}
		if err := change(ctx, tx, u); err != nil {
			return err
		}
		u.UpdatedAt = now
		if _, err := tx.NewUpdate().Model(u).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		out = u
		return nil
	})
	return out, err
}

// spendTokens marks every outstanding token of a user and purpose used.
func spendTokens(ctx context.Context, tx bun.IDB, userID, purpose string, now int64) error {
	_, err := tx.NewUpdate().Model((*tokenRow)(nil)).
		Set("used_at = ?", now).
		Where("user_id = ?", userID).
		Where("purpose = ?", purpose).
		Where("used_at IS NULL").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("spend tokens: %w", err)
	}
	return nil
}

func (s *store) addresses(ctx context.Context, userID string) ([]*addressRow, error) {
	var rows []*addressRow
	if err := s.db.NewSelect().Model(&rows).Where("a.user_id = ?", userID).
		Order("a.created_at", "a.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	return rows, nil
}

// addAddress inserts an address: at most maxAddresses per user; the first
// becomes both defaults; a default clears the same default on the others.
func (s *store) addAddress(ctx context.Context, row *addressRow) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := lockUser(ctx, tx, row.UserID); err != nil {
			return err
		}
		n, err := tx.NewSelect().Model((*addressRow)(nil)).Where("a.user_id = ?", row.UserID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count addresses: %w", err)
		}
		if n >= maxAddresses {
			return errs.FailedPreconditionf("an account can keep at most %d addresses; delete one first", maxAddresses)
		}
		if n == 0 {
			row.DefaultShipping, row.DefaultBilling = true, true
		}
		if err := clearDefaults(ctx, tx, row); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return fmt.Errorf("insert address: %w", err)
		}
		return nil
	})
}

// clearDefaults takes the defaults row claims away from the user's other
// addresses.
func clearDefaults(ctx context.Context, tx bun.Tx, row *addressRow) error {
	for _, d := range []struct {
		column string
		set    bool
	}{{"default_shipping", row.DefaultShipping}, {"default_billing", row.DefaultBilling}} {
		if !d.set {
			continue
		}
		_, err := tx.NewUpdate().Model((*addressRow)(nil)).
			Set(d.column+" = ?", false).
			Where("user_id = ?", row.UserID).
			Where("id <> ?", row.ID).
			Where(d.column+" = ?", true).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("clear %s: %w", d.column, err)
		}
	}
	return nil
}

// updateAddress changes one of the user's addresses. An address of another
// user is errs.NotFound, exactly like one that does not exist.
func (s *store) updateAddress(ctx context.Context, userID, id string, mutate func(*addressRow) error) (*addressRow, error) {
	var out *addressRow
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		row := new(addressRow)
		err := tx.NewSelect().Model(row).Where("a.id = ?", id).Where("a.user_id = ?", userID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return addressNotFound(id)
		}
		if err != nil {
			return fmt.Errorf("read address: %w", err)
		}
		if err := mutate(row); err != nil {
			return err
		}
		if err := clearDefaults(ctx, tx, row); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(row).WherePK().ExcludeColumn("id", "user_id", "created_at").Exec(ctx); err != nil {
			return fmt.Errorf("update address: %w", err)
		}
		out = row
		return nil
	})
	return out, err
}

func (s *store) deleteAddress(ctx context.Context, userID, id string) error {
	res, err := s.db.NewDelete().Model((*addressRow)(nil)).
		Where("id = ?", id).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete address: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete address: %w", err)
	} else if n == 0 {
		return addressNotFound(id)
	}
	return nil
}

func addressNotFound(id string) error { return errs.NotFoundf("address %q not found", id) }

// linkResult is what linkIdentity did.
type linkResult struct {
	user    *userRow
	created bool
}

// externalLogin is a verified identity from an OpenID Connect provider.
type externalLogin struct {
	Issuer, Subject string
	Email           string // normalised; "" when the provider gave none
	EmailVerified   bool
	DisplayName     string
}

// linkIdentity finds the account of an external identity, links it to the
// account with the same (provider-verified) email, or creates an account.
func (s *store) linkIdentity(ctx context.Context, in externalLogin, now int64) (linkResult, error) {
	var out linkResult
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		out = linkResult{}
		ident := new(identityRow)
		err := tx.NewSelect().Model(ident).
			Where("ei.issuer = ?", in.Issuer).Where("ei.subject = ?", in.Subject).Scan(ctx)
		switch {
		case err == nil:
			u, err := s.user(ctx, tx, "id", ident.UserID)
			out.user = u
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read identity: %w", err)
		}
		if in.Email == "" {
			return errs.Invalidf("the identity provider shared no email address; an account needs one")
		}
		u, err := s.user(ctx, tx, "email", in.Email)
		switch {
		case err == nil && in.EmailVerified:
			// The provider vouches for the address: it is this account's.
			if !u.EmailVerified {
				u.EmailVerified, u.UpdatedAt = true, now
				if _, err := tx.NewUpdate().Model(u).Column("email_verified", "updated_at").WherePK().Exec(ctx); err != nil {
					return fmt.Errorf("mark email verified: %w", err)
				}
			}
		case err == nil:
			return errs.FailedPreconditionf("an account with this email already exists: sign in with its password, or use a provider that has verified the address")
		case errs.Is(err, errs.NotFound):
			u = &userRow{
				ID: newID(), Email: in.Email, EmailVerified: in.EmailVerified,
				DisplayName: in.DisplayName, Roles: []string{authz.RoleCustomer}, Status: statusActive,
				CreatedAt: now, UpdatedAt: now,
			}
			if err := s.insertUser(ctx, tx, u); err != nil {
				return err
			}
			out.created = true
		default:
			return err
		}
		out.user = u
		_, err = tx.NewInsert().Model(&identityRow{
			Issuer: in.Issuer, Subject: in.Subject, UserID: u.ID, Email: in.Email, CreatedAt: now,
		}).Exec(ctx)
		if err != nil {
			if db.IsUniqueViolation(err) {
				return errs.Abortedf("this identity was linked by a concurrent sign-in; retry")
			}
			return fmt.Errorf("insert identity: %w", err)
		}
		return nil
	})
	return out, err
}
