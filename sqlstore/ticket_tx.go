package sqlstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// execer runs statements written with '?' placeholders in whichever
// transaction type the dialect's job driver needs.
type execer interface {
	exec(ctx context.Context, query string, args ...any) error
	execCount(ctx context.Context, query string, args ...any) (int64, error)
	// queryStrings returns the first column of every row.
	queryStrings(ctx context.Context, query string, args ...any) ([]string, error)
}

type sqlExecer struct{ tx *tx }

func (x sqlExecer) exec(ctx context.Context, query string, args ...any) error {
	_, err := x.tx.ExecContext(ctx, query, args...)
	return err
}

func (x sqlExecer) execCount(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := x.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (x sqlExecer) queryStrings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := x.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

type pgxExecer struct {
	tx pgx.Tx
	db *DB
}

func (x pgxExecer) exec(ctx context.Context, query string, args ...any) error {
	_, err := x.tx.Exec(ctx, x.db.rebind(query), args...)
	return err
}

func (x pgxExecer) execCount(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := x.tx.Exec(ctx, x.db.rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (x pgxExecer) queryStrings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := x.tx.Query(ctx, x.db.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// inEnqueueTx runs write and then enqueue(ids) in one transaction: a
// database/sql one on SQLite, a pgx one on PostgreSQL, because River's
// drivers insert jobs through those types.
func (s *TicketStore) inEnqueueTx(ctx context.Context, write func(execer) error, enqueue EnqueueFunc, ids []string) error {
	if s.db.Dialect == DialectPostgres {
		ptx, err := s.db.Pool.Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
		defer ptx.Rollback(context.WithoutCancel(ctx))
		if err := write(pgxExecer{tx: ptx, db: s.db}); err != nil {
			return err
		}
		if err := enqueue(ctx, TicketTx{PGX: ptx}, ids); err != nil {
			return err
		}
		if _, err := ptx.Exec(ctx, "NOTIFY "+s.db.channel); err != nil {
			return err
		}
		if err := ptx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		s.db.noteChanged()
		return nil
	}
	t, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if err := write(sqlExecer{tx: t}); err != nil {
		return err
	}
	if err := enqueue(ctx, TicketTx{SQL: t.Tx}, ids); err != nil {
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
