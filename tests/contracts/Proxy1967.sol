// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// An EIP-1967 proxy for evmtap tests: the implementation in the standard slot, every call
/// delegated to it, `upgradeTo` (by the admin) emitting `Upgraded(address)`.
contract Proxy1967 {
    bytes32 private constant IMPLEMENTATION =
        0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
    address private immutable admin;

    event Upgraded(address indexed implementation);

    constructor(address implementation) {
        admin = msg.sender;
        _set(implementation);
    }

    function upgradeTo(address implementation) external {
        require(msg.sender == admin, "admin");
        _set(implementation);
    }

    function _set(address implementation) private {
        assembly {
            sstore(IMPLEMENTATION, implementation)
        }
        emit Upgraded(implementation);
    }

    fallback() external {
        assembly {
            let implementation := sload(IMPLEMENTATION)
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), implementation, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            switch ok
            case 0 { revert(0, returndatasize()) }
            default { return(0, returndatasize()) }
        }
    }
}

/// Deploys EIP-1167 minimal proxies (clones) of an implementation.
contract Cloner {
    event Cloned(address clone);

    function clone(address implementation) external returns (address made) {
        bytes20 target = bytes20(implementation);
        assembly {
            let code := mload(0x40)
            mstore(code, 0x3d602d80600a3d3981f3363d3d373d3d3d363d73000000000000000000000000)
            mstore(add(code, 0x14), target)
            mstore(add(code, 0x28), 0x5af43d82803e903d91602b57fd5bf30000000000000000000000000000000000)
            made := create(0, code, 0x37)
        }
        require(made != address(0), "create");
        emit Cloned(made);
    }
}

/// The token's next version behind the proxy: one function more.
contract TokenV2 {
    mapping(address => uint256) public balanceOf;

    event Transfer(address indexed from, address indexed to, uint256 value);

    function mint(address to, uint256 value) external {
        balanceOf[to] += value;
        emit Transfer(address(0), to, value);
    }

    function approve(address, uint256) external pure returns (bool) {
        return true;
    }
}
