package store

import "errors"

// Errors of the store.
var (
	// ErrNotFound: no such user.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: a user of that name exists already.
	ErrExists = errors.New("store: exists already")
	// ErrSchemaNewer: the database was migrated by a newer flashvox; this
	// one refuses to run on it rather than misread it.
	ErrSchemaNewer = errors.New("store: database schema is newer than this flashvox")
	// ErrSchemaOld: the database needs `flashvox db migrate` (Check).
	ErrSchemaOld = errors.New("store: database schema is older than this flashvox")
	// ErrTooMany: a list over its bound (MaxContacts).
	ErrTooMany = errors.New("store: too many entries")
	// ErrBadURL: database.url names no engine the store knows.
	ErrBadURL = errors.New("store: database url must be postgres://…, postgresql://… or sqlite:PATH")
)
