--[[ cache_unlock: release the single-flight lock of a cache entry, if still ours.
  Compare and delete in one step: a lock that expired and was taken by another worker
  is not released by the slow first owner.
  KEYS[1] lock key
  ARGV[1] owner token
  Returns 1 released | 0 not ours (expired, or taken by another) ]]
local lockKey, owner = KEYS[1], ARGV[1]
if redis.call('GET', lockKey) == owner then return redis.call('DEL', lockKey) end
return 0
