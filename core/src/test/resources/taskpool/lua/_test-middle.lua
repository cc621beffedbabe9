-- A part for LuaSourceTest, which includes another.
--@include _test-leaf.lua
local function middle() return 2 end
