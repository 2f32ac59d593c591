--[[ bury: held -> dead, for a message no job can be made of (not JSON, no text).
  Moves it from the processing list to the dead list with the reason in one step,
  so a poison message is neither lost nor retried forever.
  KEYS[1] processing list of the worker   KEYS[2] dead list
  ARGV[1] message as reserved             ARGV[2] dead-list entry JSON
  Returns 1 buried | 0 not held (already moved) ]]
local rcall = redis.call
if rcall('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
rcall('LPUSH', KEYS[2], ARGV[2])
return 1
