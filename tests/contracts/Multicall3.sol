// SPDX-License-Identifier: MIT
// Multicall3's aggregate3, written for the tests from its published interface (a tuple of
// (target, allowFailure, callData) per call; (success, returnData) per call back), so that
// anvil_setCode can put it at the canonical address 0xcA11bde05977b3631167028862bE2a173976CA11.
pragma solidity ^0.8.20;

contract Multicall3 {
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory data) = calls[i].target.call(calls[i].callData);
            require(ok || calls[i].allowFailure, "Multicall3: call failed");
            returnData[i] = Result(ok, data);
        }
    }
}
