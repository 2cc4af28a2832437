package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
)

// checkpointEvery is how often the checkpointer copies the WAL back into
// the database. Between two runs the WAL holds what was written meanwhile.
const checkpointEvery = 500 * time.Millisecond

// checkpointer runs PRAGMA wal_checkpoint(PASSIVE) on its own connection.
// A passive checkpoint never blocks the writer or the readers, and its
// fsyncs happen here rather than inside whichever commit crossed SQLite's
// auto-checkpoint threshold (the writer has it turned off).
type checkpointer struct {
	db   *sql.DB
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

func newCheckpointer(base string, cfg gorm.Config) (*checkpointer, error) {
	g, err := gorm.Open(sqlite.Open(base), &cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite checkpointer: %w", err)
	}
	db, err := g.DB()
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	c := &checkpointer{db: db, quit: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c, nil
}

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-t.C:
			// A busy or failed checkpoint is retried on the next tick;
			// the data is safe in the WAL meanwhile.
			_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// close stops the loop, runs a last checkpoint and closes the connection.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.quit) })
	<-c.done
	_, _ = c.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
	return c.db.Close()
}
