package auth

import (
	"time"

	"gorm.io/gorm"

	"saasmall/server/store"
)

// User is a platform-wide account: one account signs in to the mall, every
// brand store and, for staff, every tenant they are a member of.
type User struct {
	ID                int64     `gorm:"primaryKey" json:"id"`
	Email             string    `gorm:"size:254;not null;uniqueIndex" json:"email"` // lower-cased
	Name              string    `gorm:"size:120;not null" json:"name"`
	Locale            string    `gorm:"size:10;not null;default:''" json:"locale"`
	PasswordHash      string    `gorm:"size:200;not null" json:"-"`
	PlatformOperator  bool      `gorm:"not null;default:false" json:"platform_operator"`
	PasswordChangedAt time.Time `json:"-"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"-"`
}

// Session is one signed-in device. Only the SHA-256 of its token is stored.
type Session struct {
	ID           int64      `gorm:"primaryKey" json:"id"`
	UserID       int64      `gorm:"not null;index" json:"-"`
	TokenHash    string     `gorm:"size:64;not null;uniqueIndex" json:"-"`
	CSRFToken    string     `gorm:"size:64;not null" json:"-"`
	ClientSource string     `gorm:"size:10;not null" json:"client_source"`
	UserAgent    string     `gorm:"size:300;not null;default:''" json:"user_agent"`
	IP           string     `gorm:"size:64;not null;default:''" json:"ip"`
	Via          string     `gorm:"size:20;not null;default:'password'" json:"via"` // password | handoff | register
	CreatedAt    time.Time  `json:"created_at"`
	LastSeenAt   time.Time  `json:"last_seen_at"`
	ExpiresAt    time.Time  `gorm:"not null;index" json:"expires_at"` // absolute expiry
	RevokedAt    *time.Time `json:"-"`
}

// HandoffCode is a one-time code that signs another channel in as the
// session that asked for it.
type HandoffCode struct {
	ID        int64     `gorm:"primaryKey"`
	CodeHash  string    `gorm:"size:64;not null;uniqueIndex"`
	UserID    int64     `gorm:"not null;index"`
	SessionID int64     `gorm:"not null"`
	ExpiresAt time.Time `gorm:"not null;index"`
	UsedAt    *time.Time
	CreatedAt time.Time
}

// Migrations are the auth tables.
func Migrations() []*store.Migration {
	return []*store.Migration{{
		ID: "202611250003_auth",
		Migrate: func(tx *gorm.DB) error {
			return tx.AutoMigrate(&User{}, &Session{}, &HandoffCode{})
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(&HandoffCode{}, &Session{}, &User{})
		},
	}}
}
