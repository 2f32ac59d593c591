--[[ reserve: queued -> held by a worker, several at once: the most urgent first, and within a
  priority fairly between tenants.
  Moves up to ARGV[1] messages from the consuming (right) ends of the lanes to the left of
  the worker's processing list: a backlog costs one round trip per batch, not one per job.
  Each move is LMOVE, so a message is always in exactly one list, and a worker that dies
  after this leaves its messages where recovery finds them.
  Order: `high` lanes, then `normal`, then `low`; but while normal (or low) jobs wait, every
  LOW_SHARE_EVERY-th start is one of theirs, which bounds their wait under a flood of more
  urgent work (one tenant's `high` backlog cannot starve the others' normal jobs).
  Within a priority the ring picks the tenant given least so far over its weight (stride
  scheduling): two tenants with work alternate, a tenant of weight 3 gets three turns to
  one; a tenant alone takes the whole batch at once.
  Lanes: the default tenant's normal lane is the queue list itself (where a foreign producer
  pushes; it joins the normal ring when it has work); every other lane is named
  ARGV[2] .. priority .. ':' .. tenant, built here from the rings' members (all share the
  queue's hash tag, so the script stays in one slot). A wake token met on the way is dropped.
  KEYS[1] queue list   KEYS[2] processing list of the worker
  KEYS[3] ring high    KEYS[4] ring normal    KEYS[5] ring low
  KEYS[6] weights hash (tenant -> weight; absent = 1)
  KEYS[7] schedule hash (`since_normal`, `since_low`: starts given above each while it waited)
  ARGV[1] most messages to take   ARGV[2] lane prefix   ARGV[3] the default tenant's name
  ARGV[4] the wake token          ARGV[5] LOW_SHARE_EVERY
  ARGV[6] '1' when the worker's BLMOVE just took a wake token: dropped from its list first
  Returns the messages taken, in the order they were taken (empty when every lane is empty) ]]
-- @include lanes
local rcall = redis.call
local queue, processing, weightsKey, scheduleKey = KEYS[1], KEYS[2], KEYS[6], KEYS[7]
local rings = {high = KEYS[3], normal = KEYS[4], low = KEYS[5]}
local most, prefix, defaultTenant, wake, every = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local taken = {}

if ARGV[6] == '1' then rcall('LREM', processing, 1, wake) end

-- Up to n messages of one lane, oldest first; returns how many.
local function take(lane, n)
  local got = 0
  while got < n do
    local message = rcall('LMOVE', lane, processing, 'RIGHT', 'LEFT')
    if not message then break end
    if message == wake then
      rcall('LPOP', processing)
    else
      got = got + 1
      taken[#taken + 1] = message
    end
  end
  return got
end

-- Up to n messages of one priority, a turn per tenant by the ring; returns how many.
local function serve(priority, n)
  local ring, served = rings[priority], 0
  if n <= 0 then return 0 end
  if priority == 'normal' and rcall('LLEN', queue) > 0 then join_ring(ring, defaultTenant) end
  while served < n do
    local head = rcall('ZRANGE', ring, 0, 0)
    if #head == 0 then break end
    local tenant = head[1]
    local lane = prefix .. priority .. ':' .. tenant
    if priority == 'normal' and tenant == defaultTenant then lane = queue end
    local weight = tonumber(rcall('HGET', weightsKey, tenant) or 1)
    local want = n - served
    if rcall('ZCARD', ring) > 1 then want = math.min(want, weight) end
    local got = take(lane, want)
    served = served + got
    if got < want or rcall('LLEN', lane) == 0 then
      rcall('ZREM', ring, tenant)
    else
      rcall('ZINCRBY', ring, got / weight, tenant)
    end
  end
  return served
end

-- The common case, one tenant at normal priority: the queue list alone, as before lanes.
if rcall('ZCARD', rings.high) == 0 and rcall('ZCARD', rings.normal) == 0 and rcall('ZCARD', rings.low) == 0 then
  take(queue, most)
  return taken
end

-- The shares: while normal (or low) jobs wait, every LOW_SHARE_EVERY-th start is one of theirs,
-- however much more urgent work floods in (`since` counts the starts given above each since).
local since, waits = {}, {}
for _, priority in ipairs({'normal', 'low'}) do
  since[priority] = tonumber(rcall('HGET', scheduleKey, 'since_' .. priority) or 0)
end
local function look()
  waits.normal = rcall('ZCARD', rings.normal) > 0 or rcall('LLEN', queue) > 0
  waits.low = rcall('ZCARD', rings.low) > 0
end
-- One start of a starved priority (its share is due), counted above the priority below it.
local function owed(priority, below, left)
  if left <= 0 or not waits[priority] or since[priority] < every - 1 then return 0 end
  local got = serve(priority, 1)
  since[priority] = 0
  if got > 0 and below and waits[below] then since[below] = since[below] + got end
  look()
  return got
end

local left = most
look()
while left > 0 do
  left = left - owed('normal', 'low', left)
  left = left - owed('low', nil, left)
  if left <= 0 then break end
  local room = left
  for _, priority in ipairs({'normal', 'low'}) do
    if waits[priority] then room = math.min(room, every - 1 - since[priority]) end
  end
  local high = serve('high', room)
  local normal = serve('normal', room - high)
  left = left - high - normal
  if waits.normal then since.normal = normal > 0 and 0 or since.normal + high end
  if waits.low then since.low = since.low + high + normal end
  if high + normal < room then  -- nothing more urgent waits: low fills what is left
    local low = serve('low', left)
    if low > 0 then since.low = 0 end
    left = left - low
    break
  end
  look()
end
rcall('HSET', scheduleKey, 'since_normal', since.normal, 'since_low', since.low)
return taken
