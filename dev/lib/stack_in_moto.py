"""Creates deploy/atrium.yaml in moto's CloudFormation, as an operator would in a new account:
a VPC with public and private subnets first, then the portal's stack with them. Fails unless the
stack reaches CREATE_COMPLETE; lists each resource moto made and names the types it does not
know (moto skips those, so they are checked by cfn-lint only).

usage: python stack_in_moto.py <moto endpoint> <template>   (with moto's venv, which has boto3)
"""

import re
import sys
from collections import Counter

import boto3

ACCOUNT = "999999999999"  # an account of its own in the shared moto


def client(service, endpoint):
    aws = boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    aws.meta.events.register("before-sign.*.*",
                             lambda request, **_: request.headers.__setitem__("x-moto-account-id", ACCOUNT))
    return aws


def without_resources(template, names):
    """The template without the named top-level resources (their block under Resources:)."""
    kept, skipping = [], False
    for line in template.splitlines(keepends=True):
        if line.startswith("  ") and not line.startswith("   ") and line.strip().endswith(":"):
            skipping = line.strip()[:-1] in names
        elif line.strip() and not line.startswith(" "):
            skipping = False
        if not skipping:
            kept.append(line)
    return "".join(kept)


def main(endpoint, template_path):
    ec2 = client("ec2", endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{n}.0/24",
                                 AvailabilityZone=f"us-east-1{'ab'[n % 2]}")["Subnet"]["SubnetId"] for n in range(4)]
    # The load balancer's listener wants a certificate ACM knows.
    certificate = client("acm", endpoint).request_certificate(DomainName="atrium.example.org")["CertificateArn"]
    parameters = {
        "ImageUri": "registry.example.org/atrium:1",
        "VpcId": vpc,
        "PublicSubnetIds": ",".join(subnets[:2]),
        "PrivateSubnetIds": ",".join(subnets[2:]),
        "CertificateArn": certificate,
        "PublicUrl": "https://atrium.example.org",
        "MailFrom": "atrium@example.org",
    }
    cloudformation = client("cloudformation", endpoint)
    name = f"atrium-portal-{vpc}"  # a stack of its own each run
    with open(template_path, encoding="utf-8") as template:
        body = template.read()
    # moto's CloudFormation cannot make Cognito user pools: they are made beforehand through
    # Cognito's API, as the operator of an existing pool would, and the template refers to them.
    cognito = client("cognito-idp", endpoint)
    pool = cognito.create_user_pool(PoolName="atrium-users")["UserPool"]
    app_client = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="atrium")["UserPoolClient"]
    body = without_resources(body, ["UserPool", "UserPoolClient"])
    body = body.replace("!Ref UserPoolClient", app_client["ClientId"]).replace("!Ref UserPool", pool["Id"]) \
               .replace("!GetAtt UserPool.Arn", pool["Arn"])
    # moto's RDS has no MasterUserSecret (the secret RDS makes for ManageMasterUserPassword):
    # the secret's ARN stands in for it, and cfn-lint checks the attribute.
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds-atrium"
    body = body.replace("!GetAtt Database.MasterUserSecret.SecretArn", secret) \
               .replace("${Database.MasterUserSecret.SecretArn}", secret)
    cloudformation.create_stack(
        StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    made = Counter(r["ResourceType"] for r in resources)
    print(f"{name}: {stack['StackStatus']}; moto made " + ", ".join(f"{n} {t}" for t, n in sorted(made.items())))
    resources_section = body.split("\nResources:", 1)[1].split("\nOutputs:", 1)[0]
    declared = {line.split("Type:", 1)[1].strip() for line in resources_section.splitlines()
                if line.startswith("    Type: AWS::")} | {"AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient"}
    unknown = sorted(declared - set(made))
    if unknown:
        print("made outside the stack or not by moto (checked by cfn-lint only): " + ", ".join(unknown))
    if stack["StackStatus"] != "CREATE_COMPLETE":
        print(stack.get("StackStatusReason", "no reason given"), file=sys.stderr)
        return 1
    # The tasks reach the database the stack made.
    ecs = client("ecs", endpoint)
    for resource in resources:
        if resource["ResourceType"] == "AWS::ECS::TaskDefinition":
            task = ecs.describe_task_definition(taskDefinition=resource["PhysicalResourceId"])["taskDefinition"]
            environment = {e["name"]: e["value"] for e in task["containerDefinitions"][0].get("environment", [])}
            url = environment.get("DATABASE_URL", "")
            # (moto gives the instance its default port, not always its engine's.)
            if not re.fullmatch(r"postgres://atrium@[a-z0-9.-]+\.rds\.amazonaws\.com:\d+/atrium\?sslmode=require", url):
                print(f"{resource['LogicalResourceId']}: DATABASE_URL is {url!r}", file=sys.stderr)
                return 1
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    print("outputs: " + ", ".join(sorted(outputs)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
