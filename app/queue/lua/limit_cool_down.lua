--[[ limit_cool_down: after a 429, hold every worker's next call to the model back.
  Only ever lengthens the cool-down: a shorter delay reported later by another worker
  must not cut short a longer one the model asked for. limit_reserve books no slot
  before the cool-down ends, and a caller that waited re-checks it before calling.
  KEYS[1] cool-down key
  ARGV[1] delay, ms
  Returns 1 set or lengthened | 0 a longer cool-down was already running ]]
local coolDown = KEYS[1]
if redis.call('PTTL', coolDown) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', coolDown, 1, 'PX', ARGV[1])
return 1
