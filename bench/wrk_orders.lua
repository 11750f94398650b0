-- POST /api/v1/orders/ as many customers, one line of one product each, paid with the fake sandbox.
dofile(os.getenv("WRK_REPORT"))
-- ORDERS_SETUP (a file written by run.py) holds lines "token product_id".
local pairs_file = os.getenv("ORDERS_SETUP")
local setups = {}
for line in io.lines(pairs_file) do
  local token, product = line:match("(%S+) (%S+)")
  table.insert(setups, {token = token, product = product})
end
local counter = 0
-- Every order ships somewhere: one address for all (its size is a real checkout's).
local address = '"address": {"recipient": "김민준", "phone": "010-1234-5678", "postal_code": "06236", '
  .. '"road_address": "서울특별시 강남구 테헤란로 152", "detail": "12층"}'

request = function()
  counter = counter + 1
  local setup = setups[(counter % #setups) + 1]
  local body = '{"items": [{"product_id": "' .. setup.product .. '", "quantity": 1}], ' .. address
    .. ', "payment_token": "tok_approve"}'
  return wrk.format("POST", "/api/v1/orders/", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. setup.token,
  }, body)
end
