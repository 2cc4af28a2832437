package mall

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// CartRef names a cart: the signed-in account's, else the guest browser's
// (the value of its cart cookie).
type CartRef struct {
	GuestToken string
}

func guestHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// cartID returns the caller's cart id, creating the cart when create is set
// (0 when there is none and create is false).
func (s *Service) cartID(ctx context.Context, ref CartRef, create bool) (int64, error) {
	var c Cart
	q := s.db.R(ctx)
	uid := actor.UserID(ctx)
	switch {
	case uid != 0:
		q = q.Where("user_id = ?", uid)
	case ValidGuestToken(ref.GuestToken):
		q = q.Where("guest_hash = ?", guestHash(ref.GuestToken))
	default:
		if create {
			return 0, apperr.ErrUnauthorized
		}
		return 0, nil
	}
	err := q.Take(&c).Error
	if err == nil {
		return c.ID, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, err
	}
	if !create {
		return 0, nil
	}
	c = Cart{UpdatedAt: s.now()}
	if uid != 0 {
		c.UserID = &uid
	} else {
		h := guestHash(ref.GuestToken)
		c.GuestHash = &h
	}
	if err := s.db.W(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&c).Error; err != nil {
		return 0, err
	}
	if c.ID == 0 { // created concurrently
		return s.cartID(ctx, ref, false)
	}
	return c.ID, nil
}

// CartLine is a cart item as shoppers see it.
type CartLine struct {
	ID          int64    `json:"id"`
	SKUID       int64    `json:"sku_id"`
	ProductID   int64    `json:"product_id"`
	ProductName string   `json:"product_name"`
	SKUName     string   `json:"sku_name"`
	Kind        string   `json:"kind"`
	Store       StoreRef `json:"store"`
	Quantity    int64    `json:"quantity"`
	UnitPrice   *Money   `json:"unit_price"` // null when the SKU has no price in the cart's currency
	Amount      *Money   `json:"amount"`
	Available   bool     `json:"available"` // still on sale (and in stock, for goods)
	Interval    string   `json:"interval,omitempty"`
	PerSeat     bool     `json:"per_seat,omitempty"`
	Tier        string   `json:"tier,omitempty"`
}

// CartView is the caller's cart priced in one currency.
type CartView struct {
	Items    []CartLine `json:"items"`
	Currency string     `json:"currency"`
	Subtotal Money      `json:"subtotal"`
	Count    int64      `json:"count"`
}

// Cart returns the caller's cart (account, else guest) priced in currency
// (default USD). Anyone may call it.
func (s *Service) Cart(ctx context.Context, ref CartRef, currency string) (*CartView, error) {
	currency, err := cartCurrency(currency)
	if err != nil {
		return nil, err
	}
	id, err := s.cartID(ctx, ref, false)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	v := &CartView{Items: []CartLine{}, Currency: currency, Subtotal: Money{Currency: currency}}
	if id == 0 {
		return v, nil
	}
	var items []CartItem
	if err := s.db.R(ctx).Where("cart_id = ?", id).Order("id").Find(&items).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	for _, it := range items {
		l := CartLine{ID: it.ID, SKUID: it.SKUID, Quantity: it.Quantity}
		if k, ok := s.Catalog.SKU(it.SKUID); ok {
			l.ProductID, l.ProductName, l.SKUName, l.Kind, l.Store = k.ProductID, k.ProductName, k.Name, k.Kind, k.Store
			l.Available = k.InStock
			l.Interval, l.PerSeat, l.Tier = k.Interval, k.PerSeat, k.Tier
			if p, ok := k.Prices[currency]; ok {
				l.UnitPrice = &Money{Amount: p, Currency: currency}
				l.Amount = &Money{Amount: p * it.Quantity, Currency: currency}
				v.Subtotal.Amount += p * it.Quantity
			}
		}
		v.Count += it.Quantity
		v.Items = append(v.Items, l)
	}
	return v, nil
}

// cartCurrency normalises a display currency (default USD).
// Errors: invalid_input.
func cartCurrency(c string) (string, error) {
	c = strings.ToUpper(strings.TrimSpace(c))
	if c == "" {
		return "USD", nil
	}
	if !tenants.ValidCurrency(c) {
		return "", apperr.Invalid("currency", "invalid_currency")
	}
	return c, nil
}

// ValidGuestToken reports whether tok can name a guest cart.
func ValidGuestToken(tok string) bool { return len(tok) >= 20 && len(tok) <= 100 }

// AddItemInput adds a SKU to the cart.
type AddItemInput struct {
	SKUID    int64 `json:"sku_id"`
	Quantity int64 `json:"quantity"`
}

func (s *Service) checkQty(k *SKUInfo, field string, qty int64) error {
	if qty < 1 || qty > k.MaxQuantity() {
		return apperr.Invalid(field, "out_of_range", "Min", 1, "Max", k.MaxQuantity())
	}
	return nil
}

// visibleSKU returns a SKU shoppers may buy, or a field error naming it.
func (s *Service) visibleSKU(field string, id int64) (*SKUInfo, error) {
	if id <= 0 {
		return nil, apperr.Invalid(field, "required")
	}
	k, ok := s.Catalog.SKU(id)
	if !ok {
		return nil, apperr.Invalid(field, "unknown_sku")
	}
	return k, nil
}

// AddItem puts quantity of a SKU (seats for SaaS) in the caller's cart,
// adding to a line of the same SKU. Anyone with an account or a guest cart.
// Errors: invalid_input (unknown or unavailable SKU, quantity out of range).
func (s *Service) AddItem(ctx context.Context, ref CartRef, in AddItemInput, currency string) (*CartView, error) {
	if _, err := cartCurrency(currency); err != nil {
		return nil, err
	}
	k, err := s.visibleSKU("sku_id", in.SKUID)
	if err != nil {
		return nil, err
	}
	if err := s.checkQty(k, "quantity", in.Quantity); err != nil {
		return nil, err
	}
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		id, err := s.cartID(ctx, ref, true)
		if err != nil {
			return err
		}
		var it CartItem
		err = s.db.W(ctx).Where("cart_id = ? AND sku_id = ?", id, k.ID).Take(&it).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return s.db.W(ctx).Create(&CartItem{CartID: id, SKUID: k.ID, Quantity: in.Quantity, AddedAt: s.now()}).Error
		case err != nil:
			return err
		}
		if err := s.checkQty(k, "quantity", it.Quantity+in.Quantity); err != nil {
			return err
		}
		return s.db.W(ctx).Model(&CartItem{}).Where("id = ?", it.ID).Update("quantity", it.Quantity+in.Quantity).Error
	})
	if err != nil {
		return nil, store.Error(err, "cart")
	}
	return s.Cart(ctx, ref, currency)
}

// SetItemQuantity changes a line of the caller's cart. Errors: not_found
// (not the caller's line), invalid_input.
func (s *Service) SetItemQuantity(ctx context.Context, ref CartRef, itemID, qty int64, currency string) (*CartView, error) {
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		it, err := s.item(ctx, ref, itemID)
		if err != nil {
			return err
		}
		k, ok := s.Catalog.SKU(it.SKUID)
		if !ok {
			return apperr.Invalid("sku_id", "unknown_sku")
		}
		if err := s.checkQty(k, "quantity", qty); err != nil {
			return err
		}
		return s.db.W(ctx).Model(&CartItem{}).Where("id = ?", it.ID).Update("quantity", qty).Error
	})
	if err != nil {
		return nil, store.Error(err, "cart item")
	}
	return s.Cart(ctx, ref, currency)
}

// RemoveItem deletes a line of the caller's cart. Errors: not_found.
func (s *Service) RemoveItem(ctx context.Context, ref CartRef, itemID int64, currency string) (*CartView, error) {
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		it, err := s.item(ctx, ref, itemID)
		if err != nil {
			return err
		}
		return s.db.W(ctx).Delete(&CartItem{}, it.ID).Error
	})
	if err != nil {
		return nil, store.Error(err, "cart item")
	}
	return s.Cart(ctx, ref, currency)
}

func (s *Service) item(ctx context.Context, ref CartRef, itemID int64) (*CartItem, error) {
	id, err := s.cartID(ctx, ref, false)
	if err != nil {
		return nil, err
	}
	var it CartItem
	if err := s.db.W(ctx).Where("id = ? AND cart_id = ?", itemID, id).Take(&it).Error; err != nil {
		return nil, apperr.NotFound("cart item")
	}
	return &it, nil
}

// MergeGuestCart moves a guest cart's lines into the signed-in caller's
// cart (quantities of the same SKU add up, capped at the SKU's maximum) and
// deletes the guest cart. Called right after sign-in.
func (s *Service) MergeGuestCart(ctx context.Context, guestToken string) error {
	if actor.UserID(ctx) == 0 || guestToken == "" {
		return nil
	}
	return s.db.Tx(ctx, func(ctx context.Context) error {
		var g Cart
		if err := s.db.W(ctx).Where("guest_hash = ?", guestHash(guestToken)).Take(&g).Error; err != nil {
			return nil // nothing to merge
		}
		var items []CartItem
		if err := s.db.W(ctx).Where("cart_id = ?", g.ID).Find(&items).Error; err != nil {
			return err
		}
		id, err := s.cartID(ctx, CartRef{}, true)
		if err != nil {
			return err
		}
		sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
		for _, it := range items {
			maxQ := int64(999)
			if k, ok := s.Catalog.SKU(it.SKUID); ok {
				maxQ = k.MaxQuantity()
			}
			var mine CartItem
			err := s.db.W(ctx).Where("cart_id = ? AND sku_id = ?", id, it.SKUID).Take(&mine).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				if err := s.db.W(ctx).Create(&CartItem{CartID: id, SKUID: it.SKUID, Quantity: min(it.Quantity, maxQ), AddedAt: it.AddedAt}).Error; err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			if err := s.db.W(ctx).Model(&CartItem{}).Where("id = ?", mine.ID).Update("quantity", min(mine.Quantity+it.Quantity, maxQ)).Error; err != nil {
				return err
			}
		}
		if err := s.db.W(ctx).Where("cart_id = ?", g.ID).Delete(&CartItem{}).Error; err != nil {
			return err
		}
		return s.db.W(ctx).Delete(&Cart{}, g.ID).Error
	})
}
