--[[ bury: held -> dead, for a message no job can be made of (not JSON, no text, too
  long, a duplicate of a running job, a record key of the wrong type).
  Moves it from the processing list to the dead list with the reason in one step,
  so a poison message is neither lost nor retried forever. The dead list keeps its
  retention (DEAD_MAX entries, DEAD_TTL seconds) as it grows.
  KEYS[1] processing list of the worker   KEYS[2] dead list
  ARGV[1] message as reserved             ARGV[2] dead-list entry JSON
  ARGV[3] now, unix seconds               ARGV[4] DEAD_MAX   ARGV[5] DEAD_TTL, seconds
  Returns Moved: MOVED (buried) | GONE (not held: already moved) ]]
-- @include push_dead
-- @replies Moved
local processing, dead = KEYS[1], KEYS[2]
if redis.call('LREM', processing, 1, ARGV[1]) == 0 then return Moved.GONE end
push_dead(dead, ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
return Moved.MOVED
