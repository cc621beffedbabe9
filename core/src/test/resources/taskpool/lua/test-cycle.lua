-- A script for LuaSourceTest: _test-cycle-a.lua and _test-cycle-b.lua include each other.
--@include _test-cycle-a.lua
return 1
