package mall

import (
	"sync"
	"time"
)

// recentTTL is how long a placed order is kept for its payment. Shoppers
// (and the apps that pay for them) pay right after checking out; the
// payment then needs no read of the order and its lines.
const recentTTL = 5 * time.Second

// maxRecent bounds the orders kept; past it the oldest half is dropped.
const maxRecent = 50_000

// recentOrders keeps orders just placed in this process, as committed,
// until their payment takes them or recentTTL passes. Whatever changes an
// order's state here (payment, cancellation) forgets it first. Only the
// embedded SQLite set-up uses it, where orders change in this process
// alone: with PostgreSQL another process may cancel an order, and the
// payment must see that before it charges, so it reads the order.
// Orders are put before their checkout's idempotency key is released, so
// no retry of the checkout can pay (and forget) an order before it is put.
type recentOrders struct {
	mu sync.Mutex
	m  map[int64]recentOrder
}

type recentOrder struct {
	order Order
	lines []OrderLine
	until time.Time
}

// put keeps committed orders with their lines.
func (r *recentOrders) put(orders []Order, lines [][]OrderLine) {
	until := time.Now().Add(recentTTL)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[int64]recentOrder{}
	}
	if len(r.m)+len(orders) > maxRecent {
		now := time.Now()
		for id, o := range r.m {
			if len(r.m) <= maxRecent/2 || o.until.After(now.Add(recentTTL/2)) {
				continue
			}
			delete(r.m, id)
		}
		if len(r.m)+len(orders) > maxRecent {
			clear(r.m)
		}
	}
	for i := range orders {
		r.m[orders[i].ID] = recentOrder{order: orders[i], lines: lines[i], until: until}
	}
}

// take returns and forgets order id of user uid if it is kept.
func (r *recentOrders) take(id, uid int64) (*Order, []OrderLine, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[id]
	if !ok {
		return nil, nil, false
	}
	delete(r.m, id)
	if e.order.UserID != uid || time.Now().After(e.until) {
		return nil, nil, false
	}
	o := e.order
	return &o, e.lines, true
}

// forget drops order id.
func (r *recentOrders) forget(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, id)
}
