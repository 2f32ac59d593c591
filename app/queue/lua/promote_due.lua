--[[ promote_due: delayed -> queued, for retries whose backoff has passed.
  Moves due messages to the consuming (right) end of their lanes, so a retry runs next
  rather than behind the whole backlog. ZREM and the push together: a message is never
  in both places, and two workers promoting at once move each message once.
  A message's lane is read from its own `priority` and `tenant` (absent: normal, default);
  one that cannot be read that far goes to the queue list, where a worker buries it.
  KEYS[1] delayed set   KEYS[2] queue list   KEYS[3] ring high   KEYS[4] ring normal
  KEYS[5] ring low (other lanes are named ARGV[3] .. priority .. ':' .. tenant, as in reserve.lua)
  ARGV[1] now, unix seconds   ARGV[2] most messages to move   ARGV[3] lane prefix
  ARGV[4] the default tenant's name   ARGV[5] the wake token
  Workers blocked on an empty queue list get a wake token per message put in another lane.
  Returns the number of messages moved ]]
-- @include lanes
local rcall = redis.call
local delayed, queue = KEYS[1], KEYS[2]
local rings = {high = KEYS[3], normal = KEYS[4], low = KEYS[5]}
local prefix, defaultTenant, wake = ARGV[3], ARGV[4], ARGV[5]

-- The (priority, tenant) of a message, or nil when it does not say them in a form we write.
local function lane_of(message)
  local ok, data = pcall(cjson.decode, message)
  if not ok or type(data) ~= 'table' then return nil end
  local priority, tenant = data['priority'], data['tenant']
  if priority == nil or priority == cjson.null then priority = 'normal' end  -- JSON null: absent
  if tenant == nil or tenant == cjson.null then tenant = defaultTenant end
  if not rings[priority] or type(tenant) ~= 'string' or not string.match(tenant, '^[a-z0-9][a-z0-9_-]*$') then
    return nil
  end
  return priority, tenant
end

local due = rcall('ZRANGEBYSCORE', delayed, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local idle, laned = #due > 0 and rcall('LLEN', queue) == 0, 0
for _, message in ipairs(due) do
  rcall('ZREM', delayed, message)
  local priority, tenant = lane_of(message)
  if not priority or (priority == 'normal' and tenant == defaultTenant) then
    rcall('RPUSH', queue, message)
  else
    push_job(queue, prefix .. priority .. ':' .. tenant, rings[priority], tenant, message, true, '')
    laned = laned + 1
  end
end
if idle then wake_workers(queue, wake, laned) end
return #due
