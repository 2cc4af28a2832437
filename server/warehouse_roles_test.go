package server_test

import (
	"fmt"
	"testing"

	"saasmall/server/servertest"
)

// TestWarehouseRoles: a viewer reads stock but cannot adjust it; a
// warehouse clerk runs the warehouse but cannot approve purchase orders or
// counts; the owner (warehouse approve) can; another tenant's warehouse ids
// are not found.
func TestWarehouseRoles(t *testing.T) {
	env := servertest.New(t)
	ten := env.Tenant("gearhub", "owner@gearhub.test")
	env.Tenant("bravo", "owner@bravo.test")
	_, sku := goods(t, env, ten, "ROLE-1", 1000, 20)
	owner := env.Login("owner@gearhub.test", servertest.Password, "pc")
	viewer := env.Member(ten, "viewer@gearhub.test", "viewer")
	clerk := env.Member(ten, "clerk@gearhub.test", "warehouse_clerk")
	const T = "/api/v1/t/gearhub"

	viewer.Do("GET", T+"/stock", nil).Want(t, 200)
	viewer.Do("GET", T+"/stock/moves", nil).Want(t, 200)
	viewer.Do("POST", T+"/stock/adjustments", map[string]any{"sku_id": sku, "delta": 1, "reason": "x"}).Want(t, 403)
	clerk.Do("POST", T+"/stock/adjustments", map[string]any{"sku_id": sku, "delta": 1, "reason": "x"}).Want(t, 201)

	sup := clerk.Do("POST", T+"/suppliers", map[string]any{"code": "S1", "name": "S1", "currency": ten.DefaultCurrency}).Want(t, 201)
	po := clerk.Do("POST", T+"/purchase-orders", map[string]any{"supplier_id": n64(sup.JSON["id"]),
		"lines": []map[string]any{{"sku_id": sku, "qty": 5, "unit_cost": 100}}}).Want(t, 201)
	poURL := fmt.Sprintf("%s/purchase-orders/%d", T, n64(po.JSON["id"]))
	clerk.Do("POST", poURL+"/approve", nil).Want(t, 403)
	viewer.Do("POST", poURL+"/approve", nil).Want(t, 403)
	owner.Do("POST", poURL+"/approve", nil).Want(t, 200)

	whs := clerk.Do("GET", T+"/warehouses", nil).Want(t, 200)
	wh := n64(whs.JSON["items"].([]any)[0].(map[string]any)["id"])
	cnt := clerk.Do("POST", T+"/counts", map[string]any{"warehouse_id": wh}).Want(t, 201)
	cntURL := fmt.Sprintf("%s/counts/%d", T, n64(cnt.JSON["id"]))
	var entries []map[string]any
	for _, l := range cnt.JSON["lines"].([]any) {
		m := l.(map[string]any)
		entries = append(entries, map[string]any{"sku_id": m["sku_id"], "counted": m["expected"]})
	}
	clerk.Do("PATCH", cntURL, map[string]any{"lines": entries}).Want(t, 200)
	clerk.Do("POST", cntURL+"/confirm", nil).Want(t, 403)
	owner.Do("POST", cntURL+"/confirm", nil).Want(t, 200)

	// Bravo's owner addressing GearHub's ids through Bravo: not found.
	bravo := env.Login("owner@bravo.test", servertest.Password, "pc")
	bravo.Do("GET", fmt.Sprintf("/api/v1/t/bravo/warehouses/%d", wh), nil).Want(t, 404)
	bravo.Do("GET", fmt.Sprintf("/api/v1/t/bravo/purchase-orders/%d", n64(po.JSON["id"])), nil).Want(t, 404)
	bravo.Do("POST", "/api/v1/t/bravo/counts", map[string]any{"warehouse_id": wh}).Want(t, 404)
	bravo.Do("POST", "/api/v1/t/bravo/stock/adjustments", map[string]any{"sku_id": sku, "warehouse_id": wh, "delta": 1, "reason": "x"}).Want(t, 404)
}
