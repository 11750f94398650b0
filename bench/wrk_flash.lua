-- POST /api/v1/orders/ for bench/flash_sale.py: each request one unit of a product picked at random
-- from FLASH_SETUP's lines "token product_id" (one product for the hot SKU, many for the spread).
-- FLASH_DELAY_MS (optional): each connection waits a random 0..2x that before each request, so that the
-- connections offer about connections / delay orders/s instead of a closed loop with no pause.
-- FLASH_STOP_AT_SELLOUT=1: a thread stops at its first sold-out answer (a 409, or an order the
-- reservation cancelled), so that a hot round ends at sellout.
dofile(os.getenv("WRK_REPORT"))
local setups = {}
for line in io.lines(os.getenv("FLASH_SETUP")) do
  local token, product = line:match("(%S+) (%S+)")
  table.insert(setups, {token = token, product = product})
end
local mean_delay = tonumber(os.getenv("FLASH_DELAY_MS") or "0")
local stop_at_sellout = os.getenv("FLASH_STOP_AT_SELLOUT") == "1"
local address = '"address": {"recipient": "김민준", "phone": "010-1234-5678", "postal_code": "06236", '
  .. '"road_address": "서울특별시 강남구 테헤란로 152", "detail": "12층"}'

local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("seed", #threads)
end

init = function()
  math.randomseed(os.time() * 100 + seed)
  statuses = {}
end

request = function()
  local pick = setups[math.random(#setups)]
  local body = '{"items": [{"product_id": "' .. pick.product .. '", "quantity": 1}], ' .. address
    .. ', "payment_token": "tok_approve"}'
  return wrk.format("POST", "/api/v1/orders/", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. pick.token,
  }, body)
end

if mean_delay > 0 then
  delay = function()
    return math.random() * 2 * mean_delay
  end
end

-- A 201 whose order the reservation cancelled (it lost the race for the last units) is its own count.
response = function(status, headers, body)
  local key = tostring(status)
  if status == 201 and body:find('"status":%s*"CANCELLED"') then
    key = "201_cancelled"
  end
  statuses[key] = (statuses[key] or 0) + 1
  if stop_at_sellout and (status == 409 or key == "201_cancelled") then
    wrk.thread:stop()
  end
end

status_counts = function()
  local totals = {}
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("statuses")) do
      totals[key] = (totals[key] or 0) + count
    end
  end
  local fields = {}
  for key, count in pairs(totals) do
    table.insert(fields, string.format('"%s": %d', key, count))
  end
  return "{" .. table.concat(fields, ", ") .. "}"
end
