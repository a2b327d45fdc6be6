// SPDX-License-Identifier: MIT
// A constant-product pair for the state watcher tests (tests/0105..0109): two reserves that
// swap changes and getReserves returns, a Swap event, a payable receive so that a plain
// value transfer touches it, and a view that reverts on demand.
pragma solidity ^0.8.20;

contract Pair {
    uint112 private reserve0;
    uint112 private reserve1;
    uint32 private blockTimestampLast;

    event Swap(address indexed sender, uint256 amountIn, uint256 amountOut, bool zeroForOne);

    constructor(uint112 r0, uint112 r1) {
        reserve0 = r0;
        reserve1 = r1;
        blockTimestampLast = uint32(block.timestamp);
    }

    receive() external payable {}

    function getReserves() external view returns (uint112 _reserve0, uint112 _reserve1, uint32 _blockTimestampLast) {
        return (reserve0, reserve1, blockTimestampLast);
    }

    // x * y = k, no fee: the amount out for amountIn of one side.
    function getAmountOut(uint256 amountIn, bool zeroForOne) public view returns (uint256) {
        (uint256 rin, uint256 rout) = zeroForOne ? (uint256(reserve0), uint256(reserve1)) : (uint256(reserve1), uint256(reserve0));
        return amountIn * rout / (rin + amountIn);
    }

    function swap(uint256 amountIn, bool zeroForOne) external returns (uint256 amountOut) {
        amountOut = getAmountOut(amountIn, zeroForOne);
        if (zeroForOne) {
            reserve0 += uint112(amountIn);
            reserve1 -= uint112(amountOut);
        } else {
            reserve1 += uint112(amountIn);
            reserve0 -= uint112(amountOut);
        }
        blockTimestampLast = uint32(block.timestamp);
        emit Swap(msg.sender, amountIn, amountOut, zeroForOne);
    }

    // Reverts while reserve0 is above limit: the tests' reverting view.
    function checkBelow(uint256 limit) external view returns (uint256) {
        require(reserve0 <= limit, "reserve0 above limit");
        return reserve0;
    }

    function symbols() external pure returns (string memory, string memory) {
        return ("TKA", "TKB");
    }
}
